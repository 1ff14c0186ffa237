"""Reading a model's JSON reply: parsing, validation, the problems told back to the model."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from scine.llm import JsonTask
from scine.llm._tasks import read_reply, reask_message


class Shot(BaseModel):
    camera: str
    count: int


def no_cranes(shot: Shot) -> list[str]:
    return [f"unknown camera {shot.camera!r}"] if shot.camera == "crane" else []


TASK = JsonTask(messages=({"role": "user", "content": "a shot"},), output=Shot)


def test_plain_json_is_read() -> None:
    assert read_reply(TASK, '{"camera": "dolly", "count": 2}', "stop") == Shot(
        camera="dolly", count=2
    )


def test_a_fenced_block_is_read_even_with_prose_around_it() -> None:
    text = 'Here it is:\n```json\n{"camera": "dolly", "count": 2}\n```\nAnything else?'
    assert read_reply(TASK, text, "stop") == Shot(camera="dolly", count=2)
    assert read_reply(TASK, '```\n{"camera": "pan", "count": 1}\n```', "stop") == Shot(
        camera="pan", count=1
    )


def test_plain_json_wins_over_fences_inside_strings() -> None:
    text = '{"camera": "```json\\n{}\\n```", "count": 1}'
    assert read_reply(TASK, text, "stop") == Shot(camera="```json\n{}\n```", count=1)


@pytest.mark.parametrize("text", [None, "", "  \n"])
def test_an_empty_reply_is_a_problem(text: str | None) -> None:
    assert read_reply(TASK, text, "stop") == ["the reply was empty; it must be a JSON object"]


def test_invalid_json_names_the_position() -> None:
    assert read_reply(TASK, '{"camera": dolly}', "stop") == [
        "not valid JSON: Expecting value at line 1 column 12"
    ]


def test_a_reply_cut_at_the_token_limit_is_reported_as_truncated() -> None:
    problems = read_reply(TASK, '{"camera": "do', "length")
    assert isinstance(problems, list)
    assert len(problems) == 1
    assert "cut off at the token limit" in problems[0]
    assert "finish_reason 'length'" in problems[0]


def test_a_complete_reply_is_accepted_even_at_the_token_limit() -> None:
    assert read_reply(TASK, '{"camera": "pan", "count": 1}', "length") == Shot(
        camera="pan", count=1
    )


def test_validation_problems_name_the_field_and_the_value() -> None:
    problems = read_reply(TASK, '{"camera": "pan", "count": "many"}', "stop")
    assert problems == [
        "field 'count': Input should be a valid integer, unable to parse string as an "
        "integer (got 'many')"
    ]
    assert read_reply(TASK, '{"count": 1}', "stop") == ["field 'camera': Field required"]
    not_object = read_reply(TASK, "[1, 2]", "stop")
    assert isinstance(not_object, list)
    assert not_object[0].startswith("field '(the object)': Input should be")


def test_check_problems_are_returned() -> None:
    task = JsonTask(TASK.messages, Shot, check=no_cranes)
    assert read_reply(task, '{"camera": "crane", "count": 1}', "stop") == ["unknown camera 'crane'"]
    assert read_reply(task, '{"camera": "pan", "count": 1}', "stop") == Shot(camera="pan", count=1)


def test_reask_message_lists_every_problem() -> None:
    assert reask_message(["a is wrong", "b is missing"]) == {
        "role": "user",
        "content": "Your reply was not valid:\n- a is wrong\n- b is missing\n"
        "Reply again with only the JSON object.",
    }
