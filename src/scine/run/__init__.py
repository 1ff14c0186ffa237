"""``scine run``: from prompts to leaderboard in one resumable pipeline.

The end of the flow (report / leaderboard): it composes every other package (bench, video,
judge, reward, study, analysis) and none imports it, except the command line. The rater
entry both ``scine judge run`` and ``scine run`` use lives here (``scine.run.evaluate``)
because it names the trained evaluator, which sits right of the judges.
"""

from .config import ConfigError, RunConfig, load_config
from .pipeline import STAGES, Display, RunError, RunResult, StageResult, run_pipeline

__all__ = [
    "STAGES",
    "ConfigError",
    "Display",
    "RunConfig",
    "RunError",
    "RunResult",
    "StageResult",
    "load_config",
    "run_pipeline",
]
