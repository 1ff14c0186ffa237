"""Videos written from arrays, for the probes' bad-input tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av


def write_video(path: Path, frames: Any) -> Path:
    """Encode RGB frames (T, H, W, 3 uint8) as H.264 at 24 fps with PyAV."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for image in frames:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(stream.encode())
    return path
