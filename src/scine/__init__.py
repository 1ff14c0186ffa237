"""scine: Stable Cinemetrics, structured evaluation of text-to-video models for film-making."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("scine")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
