"""``scine run``: from prompts to leaderboard in one resumable pipeline."""

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
