"""Videos: import and validation, frame sampling, synthetic shots, generation.

Frame sampling (``scine.video.sample``): ``sample_frames(path, VideoSampling())`` gives the
frames on screen at 2 per second of video time, resized for Qwen2.5-VL, the same pixels every
time; record ``VideoSampling.key()`` and ``model_dump()`` with every score made from them.
Importing this package loads no video or array library; they load when a video is read.
"""

from scine.video.sample import (
    SAMPLING_VERSION,
    SampledFrames,
    SamplingError,
    VideoSampling,
    frames_at,
    resized_size,
    sample_frames,
    target_times,
)

__all__ = [
    "SAMPLING_VERSION",
    "SampledFrames",
    "SamplingError",
    "VideoSampling",
    "frames_at",
    "resized_size",
    "sample_frames",
    "target_times",
]
