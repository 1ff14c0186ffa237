"""Text generation for the benchmark: LLM clients and the offline composer."""

from scine.llm._tasks import JsonLLM, JsonTask, Message, Outcome
from scine.llm.cache import ResponseCache
from scine.llm.factory import make_llm
from scine.llm.openai_backend import OpenAIChat

__all__ = [
    "JsonLLM",
    "JsonTask",
    "Message",
    "OpenAIChat",
    "Outcome",
    "ResponseCache",
    "make_llm",
]
