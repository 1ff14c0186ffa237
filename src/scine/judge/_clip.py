"""Frames for the measured probes: one sampling pass per video, recorded with every reading."""

from __future__ import annotations

from pathlib import Path

from scine.video.sample import VideoSampling, sample_frames

from ._reading import Clip

__all__ = ["PROBE_SAMPLING", "load_clip"]

PROBE_SAMPLING = VideoSampling(fps=8.0, max_pixels=256 * 144, min_pixels=1, multiple=None)
"""8 frames a second at about 256x144: enough for motion between frames and for a light
changing up to 4 times a second, small enough to probe a 5 s clip in tens of milliseconds."""


def load_clip(
    path: str | Path, sampling: VideoSampling = PROBE_SAMPLING, *, threaded: bool = True
) -> Clip:
    """The frames of ``path`` the probes read, sampled by ``sampling``, with their luma."""
    import cv2
    import numpy as np

    sampled = sample_frames(path, sampling, threaded=threaded)
    gray = np.stack([cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in sampled.frames])
    return Clip(
        frames=sampled.frames,
        gray=gray,
        timestamps=np.asarray(sampled.timestamps, dtype=np.float64),
        fps=sampling.fps or len(sampled.timestamps) / max(sampled.duration, 1e-9),
        source=str(path),
    )
