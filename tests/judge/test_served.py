"""The served judge against a real chat-completions server on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterator
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")
pytest.importorskip("openai")
pytest.importorskip("av")

from scine.judge.served import ServedJudge, ServerUnreachable  # noqa: E402
from scine.judge.vlm import Ask, VideoAsks  # noqa: E402
from scine.video.sample import VideoSampling, sample_frames  # noqa: E402
from tests.judge.videos import write_video  # noqa: E402
from tests.llm.chat_server import ChatServer, Reply, serve  # noqa: E402
from tests.ports import free_port  # noqa: E402

ASK = Ask("A slow pan left.", "Camera > Movement: Pan left", "Does the camera pan left?")


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with serve() as running:
        yield running


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> VideoAsks:
    path = tmp_path_factory.mktemp("served") / "clip.mp4"
    clip = np.random.default_rng(5).integers(0, 256, (48, 96, 160, 3), dtype=np.uint8)
    write_video(path, clip)
    return VideoAsks(sample_frames(path, VideoSampling(max_pixels=56 * 84)), [ASK])


def judge(server: ChatServer, **settings: object) -> ServedJudge:
    return ServedJudge("qwen-vl", base_url=server.base_url, backoff=0.01, **settings)  # type: ignore[arg-type]


def test_the_score_is_the_expected_rating_of_the_top_logprobs(
    server: ChatServer, video: VideoAsks
) -> None:
    top = {"4": math.log(0.6), " 5": math.log(0.3), "Yes": math.log(0.1)}
    server.script(Reply(content="4", top_logprobs=top))
    ((answer,),) = judge(server).answer([video])
    assert answer.probs == pytest.approx((0, 0, 0, 2 / 3, 1 / 3))
    assert answer.mass == pytest.approx(0.9)
    assert answer.score == pytest.approx(4 + 1 / 3)
    assert answer.fallback is None
    request = server.requests[0]
    assert request["logprobs"] is True
    assert request["top_logprobs"] == 20
    assert request["max_tokens"] == 1


def test_frames_go_as_a_video_of_jpegs(server: ChatServer, video: VideoAsks) -> None:
    server.script(Reply(content="3", top_logprobs={"3": 0.0}))
    judge(server).answer([video])
    parts = server.requests[0]["messages"][1]["content"]
    assert [part["type"] for part in parts] == ["video_url", "text"]
    url = parts[0]["video_url"]["url"]
    assert url.startswith("data:video/jpeg;base64,")
    assert len(url.removeprefix("data:video/jpeg;base64,").split(",")) == len(video.frames.frames)


def test_frames_as_images_are_the_sampled_pixels_exactly(
    server: ChatServer, video: VideoAsks
) -> None:
    server.script(Reply(content="3", top_logprobs={"3": 0.0}))
    judge(server, frames_as="images").answer([video])
    parts = server.requests[0]["messages"][1]["content"]
    images = [p["image_url"]["url"].removeprefix("data:image/png;base64,") for p in parts[:-1]]
    assert len(images) == len(video.frames.frames)
    for sent, frame in zip(images, video.frames.frames, strict=True):
        decoded = cv2.imdecode(np.frombuffer(base64.b64decode(sent), np.uint8), cv2.IMREAD_COLOR)
        assert np.array_equal(cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB), frame)


def test_without_logprobs_the_reply_digit_is_a_counted_fallback(
    server: ChatServer, video: VideoAsks
) -> None:
    server.script(Reply(content="2"))
    ((answer,),) = judge(server).answer([video])
    assert answer.score == 2.0
    assert answer.probs is None
    assert answer.fallback == "parsed_text"


def test_a_reply_without_a_rating_is_an_error_not_a_score(
    server: ChatServer, video: VideoAsks
) -> None:
    server.script(Reply(content="Sure"))
    ((answer,),) = judge(server).answer([video])
    assert answer.score is None
    assert answer.error == "no log-probabilities and no rating in the reply 'Sure'"
    server.script(Reply(content="Sure", top_logprobs={"Sure": -0.1, "Yes": -2.5}))
    ((answer,),) = judge(server).answer([video])
    assert answer.error == "no rating among the top tokens and no rating in the reply 'Sure'"


def test_server_errors_are_retried_then_reported(server: ChatServer, video: VideoAsks) -> None:
    server.script(Reply(status=500), Reply(content="5", top_logprobs={"5": 0.0}))
    ((answer,),) = judge(server).answer([video])
    assert answer.score == 5.0
    server.script(*[Reply(status=500)] * 3)
    ((failed,),) = judge(server, max_retries=2).answer([video])
    assert failed.score is None
    assert failed.error == "failed after 3 attempts: HTTP 500: scripted error 500"


def test_a_reply_that_is_not_json_is_an_error(server: ChatServer, video: VideoAsks) -> None:
    server.script(Reply(body="<html>gateway</html>"))
    ((answer,),) = judge(server, max_retries=0).answer([video])
    assert answer.score is None
    assert answer.error


def test_replies_that_are_no_chat_completion_are_errors_not_crashes(
    server: ChatServer, video: VideoAsks
) -> None:
    server.script(Reply(body="<html>login</html>", content_type="text/html"))
    ((answer,),) = judge(server, max_retries=0).answer([video])
    assert answer.score is None
    assert answer.error == "the reply is no chat completion: '<html>login</html>'"
    no_message = {"choices": [{"index": 0, "message": None, "finish_reason": "stop"}]}
    server.script(Reply(body=json.dumps(no_message)))
    ((answer,),) = judge(server, max_retries=0).answer([video])
    assert answer.score is None
    assert answer.error == "no log-probabilities and no rating in the reply ''"


def test_log_probabilities_above_zero_are_an_error(server: ChatServer, video: VideoAsks) -> None:
    server.script(Reply(content="4", top_logprobs={"4": 3.0, "5": -1.0}))
    ((answer,),) = judge(server).answer([video])
    assert answer.score is None
    assert answer.error == "the server gave log-probability 3.0 (above 0)"


def test_a_server_that_is_not_there_is_found_before_any_question(
    server: ChatServer,
) -> None:
    judge(server).check_server()  # no model list (501) but an answer: it is there
    port = free_port()
    absent = ServedJudge("qwen-vl", base_url=f"http://127.0.0.1:{port}/v1")
    with pytest.raises(ServerUnreachable, match=f"no server answers at http://127.0.0.1:{port}"):
        absent.check_server()


def test_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="frames_as"):
        ServedJudge("m", frames_as="gif")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="expected http://HOST:PORT/v1"):
        ServedJudge("m", base_url="not-a-url")
    with pytest.raises(ValueError, match="timeout"):
        ServedJudge("m", timeout=0)
