"""Synthetic shots: every control has its measurable effect in the decoded frames."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

av = pytest.importorskip("av")
cv2 = pytest.importorskip("cv2")
np = pytest.importorskip("numpy")

from scine.records import Control, Prompt, Video, read_jsonl  # noqa: E402
from scine.taxonomy import load_taxonomy  # noqa: E402
from scine.video._synth_photos import PHOTOS  # noqa: E402
from scine.video.synth import (  # noqa: E402
    KINDS,
    SYNTHETIC_MODELS,
    ShotSpec,
    SyntheticModel,
    controls,
    random_spec,
    render,
    speed_for,
    synth_suite,
    write_synth_suite,
)

SMALL: dict[str, Any] = {"size": (320, 192), "seconds": 2.0}


def decode(path: Path) -> Any:
    """All frames of a video as a (T, H, W, 3) RGB uint8 array."""
    with av.open(str(path)) as container:
        return np.stack([frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)])


def shoot(tmp_path: Path, name: str, seed: int = 0, **fields: Any) -> tuple[Video, Any]:
    spec = ShotSpec(**{**SMALL, **fields})
    video = render(spec, tmp_path / f"{name}.mp4", seed=seed)
    return video, decode(tmp_path / f"{name}.mp4")


def similarity(first: Any, second: Any) -> tuple[float, float, float, float]:
    """(dx, dy, degrees, scale) of the similarity taking ``first``'s content to ``second``'s."""
    orb = cv2.ORB_create(3000)
    gray = [cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) for image in (first, second)]
    (points_a, described_a), (points_b, described_b) = (orb.detectAndCompute(g, None) for g in gray)
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(described_a, described_b)
    source = np.float32([points_a[m.queryIdx].pt for m in matches])
    target = np.float32([points_b[m.trainIdx].pt for m in matches])
    matrix, _ = cv2.estimateAffinePartial2D(source, target, method=cv2.RANSAC)
    assert matrix is not None, "no similarity found between the frames"
    scale = math.hypot(matrix[0, 0], matrix[1, 0])
    # translation of the frame centre, so zooms and rolls do not read as moves
    centre = np.array([first.shape[1] / 2, first.shape[0] / 2])
    moved = matrix[:, :2] @ centre + matrix[:, 2] - centre
    return moved[0], moved[1], math.degrees(math.atan2(matrix[1, 0], matrix[0, 0])), scale


def luma(frames: Any) -> Any:
    """Mean Rec.601 luma (0-1) per frame."""
    return (frames.astype(np.float64) @ np.array([0.299, 0.587, 0.114])).mean(axis=(1, 2)) / 255


# -- camera -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("movement", "check"),
    [
        ("static", lambda dx, dy, deg, s: abs(dx) < 1 and abs(dy) < 1 and abs(s - 1) < 0.01),
        ("pan_left", lambda dx, dy, deg, s: dx > 15 and abs(dy) < 5),
        ("pan_right", lambda dx, dy, deg, s: dx < -15 and abs(dy) < 5),
        ("tilt_up", lambda dx, dy, deg, s: dy > 15 and abs(dx) < 5),
        ("tilt_down", lambda dx, dy, deg, s: dy < -15 and abs(dx) < 5),
        ("truck_left", lambda dx, dy, deg, s: dx > 15 and abs(dy) < 2),
        ("truck_right", lambda dx, dy, deg, s: dx < -15 and abs(dy) < 2),
        ("zoom_in", lambda dx, dy, deg, s: s > 1.15 and abs(dx) < 2),
        ("zoom_out", lambda dx, dy, deg, s: s < 0.87 and abs(dx) < 2),
        ("dolly_in", lambda dx, dy, deg, s: s > 1.15),
        ("dolly_out", lambda dx, dy, deg, s: s < 0.87),
        ("roll", lambda dx, dy, deg, s: deg < -10 and abs(s - 1) < 0.02),
    ],
)
def test_each_movement_moves_the_picture_its_way(tmp_path: Path, movement: str, check: Any) -> None:
    # content moves opposite to the camera: a pan left slides the picture right (+x);
    # a positive roll turns the camera clockwise, so the picture turns counter-clockwise (-)
    video, frames = shoot(tmp_path, movement, photo="gravel", movement=movement)
    dx, dy, degrees, scale = similarity(frames[0], frames[-1])
    assert check(dx, dy, degrees, scale), (movement, dx, dy, degrees, scale)
    assert video.frames == len(frames) == 48
    assert Control(node="camera.trajectory.movement", value=movement) in controls(
        ShotSpec(**SMALL, photo="gravel", movement=movement)
    )


def test_handheld_shakes_and_the_seed_decides_how(tmp_path: Path) -> None:
    _, steady = shoot(tmp_path, "steady", photo="gravel")
    _, shaky = shoot(tmp_path, "shaky", photo="gravel", handheld=1.0)
    _, other = shoot(tmp_path, "other", seed=1, photo="gravel", handheld=1.0)
    drift = [similarity(shaky[0], shaky[k])[:2] for k in (8, 16, 24, 32, 40)]
    assert max(math.hypot(*d) for d in drift) > 3  # sways several pixels
    assert max(math.hypot(*similarity(steady[0], steady[k])[:2]) for k in (8, 24, 40)) < 0.3
    assert np.abs(shaky.astype(int) - other.astype(int)).mean() > 2


def test_dutch_angle_is_a_static_tilt_of_the_horizon(tmp_path: Path) -> None:
    _, level = shoot(tmp_path, "level", photo="camera", seconds=0.5)
    _, dutch = shoot(tmp_path, "dutch", photo="camera", seconds=0.5, dutch=15)
    _, degrees, _ = similarity(level[0], dutch[0])[1:]
    assert -17 < degrees < -13  # positive dutch turns the picture counter-clockwise
    assert abs(similarity(dutch[0], dutch[-1])[2]) < 0.5  # and holds still


def test_dutch_angles_are_filmed_only_where_a_horizon_shows_the_tilt() -> None:
    with pytest.raises(ValueError, match=r"dutch needs a photo with a horizon.*'gravel'"):
        ShotSpec(**SMALL, photo="gravel", dutch=15)
    rng = random.Random(3)
    photos = {random_spec(rng, kinds=("dutch",), **SMALL).photo for _ in range(60)}
    assert photos == {name for name, photo in PHOTOS.items() if photo.horizon}


def test_frames_never_leave_the_photo() -> None:
    """No black or mirrored corners: every frame of every planned shot stays in the photo."""
    from scine.video._synth_camera import plan
    from scine.video._synth_render import _shake

    rng = random.Random(5)
    for _ in range(40):
        spec = random_spec(rng, kinds=("movement", "handheld", "dutch"), n_kinds=3, **SMALL)
        shot = plan(spec)
        shake = _shake(spec, np.random.default_rng(0)) if spec.handheld else None
        width, height = spec.size
        corners = np.array([[0, 0, 1], [width - 1, 0, 1], [0, height - 1, 1]], float)
        corners = np.vstack([corners, [width - 1, height - 1, 1]]).T
        points = shot.matrices(shake) @ corners
        xy = points[:, :2] / points[:, 2:]
        photo = PHOTOS[spec.photo]
        if not shot.depth:  # depth shots are bounded over all depths, checked in the plan
            assert xy[:, 0].min() >= 0, spec
            assert xy[:, 0].max() <= photo.width - 1, spec
            assert xy[:, 1].min() >= 0, spec
            assert xy[:, 1].max() <= photo.height - 1, spec


def test_dolly_shows_parallax_on_the_photo_with_depth(tmp_path: Path) -> None:
    common = {"seconds": 1.0, "speed": 0.3, "size": (480, 288)}
    _, flat_dolly = shoot(tmp_path, "fd", photo="gravel", movement="dolly_in", **common)
    _, flat_zoom = shoot(tmp_path, "fz", photo="gravel", movement="zoom_in", **common)
    video, deep_dolly = shoot(
        tmp_path, "dd", photo="motorcycle_left", movement="dolly_in", **common
    )
    _, deep_zoom = shoot(tmp_path, "dz", photo="motorcycle_left", movement="zoom_in", **common)

    def difference(a: Any, b: Any) -> Any:
        return np.abs(a[-1].astype(int) - b[-1].astype(int)).mean(axis=2)

    assert difference(flat_dolly, flat_zoom).mean() < 1  # a flat photo: a dolly is a zoom
    assert video.provenance["parallax"] is True
    # with depth, the dolly and the zoom grow the motorcycle alike, the far wall not
    deep = difference(deep_dolly, deep_zoom)
    wall, engine = deep[0:50].mean(), deep[130:200, 180:330].mean()
    assert wall > 30
    assert wall > 3 * engine


# -- framing --------------------------------------------------------------------------------


def test_shot_sizes_frame_the_face_tighter_and_tighter(tmp_path: Path) -> None:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    share = {}
    for size in ("close_up", "medium_close_up"):
        _, frames = shoot(tmp_path, size, size=(480, 270), seconds=0.25, shot_size=size)
        faces = cascade.detectMultiScale(cv2.cvtColor(frames[0], cv2.COLOR_RGB2GRAY), 1.1, 5)
        assert len(faces) == 1, size
        share[size] = faces[0][3] / 270
    _, ecu = shoot(tmp_path, "ecu", size=(480, 270), seconds=0.25, shot_size="extreme_close_up")
    found = cascade.detectMultiScale(cv2.cvtColor(ecu[0], cv2.COLOR_RGB2GRAY), 1.1, 5)
    assert 0.35 < share["close_up"] < 0.8
    assert share["medium_close_up"] < share["close_up"] * 0.9
    assert all(f[3] < 100 for f in found)  # eyes fill the frame: no whole face to find
    with pytest.raises(ValueError, match="squarer size"):
        ShotSpec(shot_size="medium")
    assert ShotSpec(shot_size="medium", size=(480, 480)).shot_size == "medium"


# -- lighting -------------------------------------------------------------------------------


def test_key_contrast_and_temperature_order_the_pictures(tmp_path: Path) -> None:
    quick = {"seconds": 0.25, "photo": "coffee"}
    key = {v: luma(shoot(tmp_path, f"k{v}", key=v, **quick)[1]).mean() for v in ("low", "high")}
    key["medium"] = luma(shoot(tmp_path, "km", key="medium", **quick)[1]).mean()
    assert key["low"] + 0.1 < key["medium"] < key["high"] - 0.1
    spread = {}
    for value in ("low", "medium", "high"):
        frame = shoot(tmp_path, f"c{value}", contrast=value, **quick)[1][0]
        spread[value] = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).std()
    assert spread["low"] + 10 < spread["medium"] < spread["high"] - 10
    red_blue = {}
    for value in ("low", "medium", "high"):
        frame = shoot(tmp_path, f"t{value}", temperature=value, **quick)[1][0].astype(float)
        red_blue[value] = frame[..., 0].mean() / frame[..., 2].mean()
    assert red_blue["low"] > red_blue["medium"] * 1.2 > red_blue["high"] * 1.2 * 1.2


def test_flicker_peaks_at_its_frequency_and_fades_ramp(tmp_path: Path) -> None:
    tiny = {"size": (128, 72), "seconds": 4.0, "photo": "astronaut"}
    _, frames = shoot(tmp_path, "flicker", light_motion="flicker", light_hz=5.0, **tiny)
    level = luma(frames)
    spectrum = np.abs(np.fft.rfft(level - level.mean()))
    hertz = np.fft.rfftfreq(len(level), d=1 / 24)
    assert abs(hertz[spectrum.argmax()] - 5.0) < 0.3
    cycle = np.floor(np.arange(len(level)) / 24 * 5).astype(int)
    dips = [level[cycle == c].min() for c in range(1, cycle.max())]
    assert np.std(dips) > 0.01  # dips of different depths: irregular, not a steady pulse
    for motion, sign in (("fade_up", 1), ("fade_down", -1)):
        level = luma(shoot(tmp_path, motion, light_motion=motion, **tiny)[1])
        assert sign * (level[-1] - level[0]) > 0.2
        assert sign * np.corrcoef(np.arange(len(level)), level)[0, 1] > 0.95


def test_a_switch_snaps_the_light_once_in_the_middle_of_the_shot(tmp_path: Path) -> None:
    tiny = {"size": (128, 72), "seconds": 4.0, "photo": "astronaut"}
    directions = set()
    for seed in range(6):
        level = luma(shoot(tmp_path, f"switch{seed}", seed, light_motion="switch", **tiny)[1])
        steps = np.diff(level)
        at = int(np.argmax(np.abs(steps)))
        assert 0.3 * len(level) - 1 <= at <= 0.7 * len(level)
        assert abs(steps[at]) > 0.1  # one large step...
        assert np.abs(np.delete(steps, at)).max() < 0.01  # ...and flat on both sides
        directions.add(bool(steps[at] > 0))
    assert directions == {True, False}  # on in some shots, off in others


# -- subject --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "movement"),
    [("left_to_right", "static"), ("right_to_left", "static"), ("left_to_right", "pan_right")],
)
def test_subject_crosses_the_screen_in_its_direction(
    tmp_path: Path, direction: str, movement: str
) -> None:
    # even while the camera pans right (the picture sliding left), the ball goes its way
    fields = {"photo": "rocket", "movement": movement}
    _, plain = shoot(tmp_path, "plain", **fields)
    _, with_ball = shoot(tmp_path, "ball", subject=direction, **fields)
    centres = []
    for a, b in zip(plain, with_ball, strict=True):
        mask = np.abs(a.astype(int) - b.astype(int)).sum(axis=2) > 60
        if mask.sum() > 200:
            centres.append(np.nonzero(mask)[1].mean())
    assert len(centres) > 30
    steps = np.diff(centres)
    sign = 1 if direction == "left_to_right" else -1
    assert (sign * steps > 0).mean() > 0.9
    assert sign * (centres[-1] - centres[0]) > 150


# -- records, determinism, suite ------------------------------------------------------------


def test_same_seed_same_bytes_and_a_full_record(tmp_path: Path) -> None:
    spec = ShotSpec(**SMALL, photo="chelsea", handheld=0.6, light_motion="flicker")
    first = render(spec, tmp_path / "a.mp4", seed=7)
    second = render(spec, tmp_path / "b.mp4", seed=7)
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes()
    assert first.model_dump(exclude={"path"}) == second.model_dump(exclude={"path"})
    assert first.id == f"synth/{first.prompt_id}"
    assert first.prompt_id.startswith("shot-")
    assert (first.width, first.height, first.fps, first.frames) == (320, 192, 24.0, 48)
    assert first.provenance["spec"] == spec.model_dump(mode="json")
    assert first.provenance["controls"] == [c.model_dump() for c in controls(spec)]
    with av.open(str(tmp_path / "a.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.name, stream.width, stream.height) == ("h264", 320, 192)


@pytest.mark.parametrize(
    ("codec", "suffix", "decoder"),
    [
        ("libx265", ".mp4", "hevc"),
        ("libvpx-vp9", ".webm", "vp9"),
        ("libsvtav1", ".mkv", "av1"),
        ("mpeg4", ".mp4", "mpeg4"),
    ],
)
def test_other_codecs_and_containers(tmp_path: Path, codec: str, suffix: str, decoder: str) -> None:
    spec = ShotSpec(size=(160, 96), seconds=0.5, photo="gravel", movement="pan_left")
    video = render(spec, tmp_path / f"shot{suffix}", codec=codec, crf=30)
    with av.open(video.path) as container:
        assert container.streams.video[0].codec_context.name in (decoder, "libdav1d")
    assert len(decode(Path(video.path))) == 12
    with pytest.raises(ValueError, match="unknown codec"):
        render(spec, tmp_path / "x.mp4", codec="h264_nvenc")
    with pytest.raises(ValueError, match="unknown video file type"):
        render(spec, tmp_path / "x.avi")
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written files left behind


def test_controls_are_taxonomy_controls_the_shot_really_has() -> None:
    taxonomy = load_taxonomy()
    rng = random.Random(11)
    for _ in range(60):
        spec = random_spec(rng, n_kinds=rng.choice((1, 2, 3)), **SMALL)
        found = controls(spec)
        for control in found:
            taxonomy.check_control(control.node, control.value)
        assert len({c.node for c in found}) == len(found)

    def values(**fields: Any) -> dict[str, str | None]:
        return {c.node.rsplit(".", 1)[1]: c.value for c in controls(ShotSpec(**SMALL, **fields))}

    assert values() == {"movement": "static", "rig": "tripod", "angle": "eye_level"}
    assert values(photo="brick", handheld=0.5) == {"movement": "static", "rig": "handheld"}
    truck = values(photo="brick", movement="truck_left")
    assert truck == {"movement": "truck_left", "speed": "moderate"}  # rig unknown: none
    assert "angle" not in values(movement="roll")
    assert values(dutch=-12)["angle"] == "dutch"
    assert values(photo="coffee")["angle"] == "high"
    lit = values(key="low", contrast="high", temperature="low", light_motion="fade_up")
    assert (lit["key"], lit["contrast"], lit["color_temperature"], lit["motion"]) == (
        "low",
        "high",
        "low",
        "fade_up",
    )
    assert values(subject="right_to_left")["screen_direction"] == "right_to_left"
    for pace in ("slow", "moderate", "fast"):
        paced = speed_for(ShotSpec(**SMALL, movement="pan_left"), pace)
        assert Control(node="camera.trajectory.speed", value=pace) in controls(paced)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"speed": 3.0}, "movement is static"),
        ({"light_hz": 3.0}, "only for light_motion"),
        ({"light_motion": "flicker", "light_hz": 13.0}, "below half the frame rate"),
        ({"dutch": 3.0}, "neither level"),
        ({"dutch": 10.0, "movement": "roll"}, "use one of them"),
        ({"photo": "coffee", "shot_size": "close_up"}, "known face"),
        ({"shot_size": "close_up", "movement": "zoom_in"}, "changes during the shot"),
        ({"size": (321, 180)}, "even"),
        ({"movement": "pan_left", "speed": 10.0}, "leaves the"),
        ({"photo": "motorcycle_left", "movement": "dolly_in", "speed": 0.5}, "nearest surface"),
        ({"photo": "teapot"}, "photo"),
    ],
)
def test_impossible_shots_are_refused_with_a_reason(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ShotSpec(**fields)


def test_suite_writes_videos_truth_and_manifest(tmp_path: Path) -> None:
    options = {"size": (160, 96), "seconds": 0.5}
    manifest = write_synth_suite(tmp_path, n=4, seed=3, **options)
    videos = read_jsonl(tmp_path / "videos.jsonl", Video)
    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    assert (
        [v.id for v in videos]
        == [row["video_id"] for row in truth]
        == [f"synth/shot-{i:04d}" for i in range(4)]
    )
    taxonomy = load_taxonomy()
    for video, row in zip(videos, truth, strict=True):
        assert video.path == f"videos/{video.id}.mp4"
        assert len(decode(tmp_path / video.path)) == video.frames == 12
        spec = ShotSpec(**row["spec"])
        assert row["controls"] == [c.model_dump() for c in controls(spec)]
        for control in row["controls"]:
            taxonomy.check_control(control["node"], control["value"])
    assert manifest["counts"]["videos"] == 4
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    assert sum(manifest["counts"]["controls"].values()) == sum(len(r["controls"]) for r in truth)
    # shot i depends only on (seed, i): a shorter suite is a prefix, to the byte
    videos_2, truth_2 = synth_suite(2, 3, tmp_path / "again", **options)
    assert truth_2 == truth[:2]
    for video in videos_2:
        assert (tmp_path / "again" / video.path).read_bytes() == (
            tmp_path / video.path
        ).read_bytes()
    # single-kind shots take the kinds in turn, so a suite covers them all
    assert len(KINDS) == 9


# -- the renderer as a model ----------------------------------------------------------------

POOL = [
    ("lighting.conditions.key", ("low", "medium", "high")),
    ("lighting.conditions.contrast", ("low", "medium", "high")),
    ("lighting.color_temperature", ("low", "medium", "high")),
    ("lighting.advanced.motion", ("flicker", "fade_up", "fade_down", "pulse", "switch")),
    ("events.types.actions.screen_direction", ("left_to_right", "right_to_left")),
    ("camera.trajectory.rig", ("handheld", "tripod")),
    ("camera.extrinsics.angle", ("eye_level", "dutch", "high")),
    ("camera.creative_intent.shot_size", ("close_up", "extreme_close_up")),
]


def prompts(count: int, seed: int) -> list[Prompt]:
    rng = random.Random(seed)
    made = []
    for index in range(count):
        chosen = rng.sample(POOL, 3)
        asked = [Control(node=node, value=rng.choice(values)) for node, values in chosen]
        if rng.random() < 0.3:
            asked.append(Control(node="camera.trajectory.movement", value="pan_left"))
        asked.append(Control(node="setup.scene.texture.contrast", value="high"))  # unshowable
        made.append(Prompt(id=f"p{index}", text="A shot.", split="custom", controls=tuple(asked)))
    return made


def test_synthetic_model_honours_controls_with_its_fidelity(tmp_path: Path) -> None:
    batch = prompts(120, seed=2)
    perfect = [SyntheticModel("perfect", 1.0, size=(320, 192)).shoot(p) for p in batch[:40]]
    clashes = 0
    for shot in perfect:
        assert len(shot.unsupported) == 1
        missing = set(shot.asked) - set(shot.shown)
        # only a tripod asked beside a move no tripod makes, or eye level beside a shot size
        clashes += len(missing)
    assert clashes <= 2
    blind = SyntheticModel("blind", 0.0, size=(320, 192))
    for prompt in batch[:40]:
        shot = blind.shoot(prompt)
        assert not set(shot.asked) & set(shot.shown), prompt.controls
    fair = SyntheticModel("fair", 0.7, size=(320, 192))
    honoured = asked = 0
    for prompt in batch:
        shot = fair.shoot(prompt)
        honoured += len(shot.honoured)
        asked += len(shot.asked)
    assert 0.62 < honoured / asked < 0.78
    assert set(SYNTHETIC_MODELS) == {"synth-good", "synth-fair", "synth-poor"}

    video = SyntheticModel("synth-good", 0.95, seed=1, size=(160, 96), seconds=0.5).render_prompt(
        batch[0], tmp_path / "good.mp4"
    )
    assert (video.id, video.model, video.seed) == ("synth-good/p0", "synth-good", 1)
    assert video.provenance["fidelity"] == 0.95
    assert video.provenance["shown"] == video.provenance["controls"]
    assert video.provenance["unsupported"] == [
        {"node": "setup.scene.texture.contrast", "value": "high"}
    ]
    assert len(decode(tmp_path / "good.mp4")) == 12
