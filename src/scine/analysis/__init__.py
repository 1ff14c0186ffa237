"""Analysis of the ratings table: scores, reliability, significance, rankings, report.

The heavy libraries (numpy, pandas, scipy, matplotlib, jinja2; ``pip install 'scine[report]'``)
are imported when a function runs, not when this package is imported.
"""

from .aggregate import category_scores
from .pipeline import AnalysisSettings, analyze, summary, write_outputs
from .reliability import icc, krippendorff_alpha, reliability_levels
from .results import Analysis
from .simulate import SimulationConfig, simulate, write_simulation
from .table import Study, StudyError, load_study

__all__ = [
    "Analysis",
    "AnalysisSettings",
    "SimulationConfig",
    "Study",
    "StudyError",
    "analyze",
    "category_scores",
    "icc",
    "krippendorff_alpha",
    "load_study",
    "reliability_levels",
    "simulate",
    "summary",
    "write_outputs",
    "write_simulation",
]
