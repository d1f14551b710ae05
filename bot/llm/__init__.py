"""Model calls: OpenAI-compatible endpoints through the openai SDK, retries by tenacity."""

from bot.llm.client import Completion, LLMClient
from bot.llm.errors import RetryPolicy
from bot.llm.retry import CallRecord
from bot.llm.stream import StreamHandle

__all__ = ["CallRecord", "Completion", "LLMClient", "RetryPolicy", "StreamHandle"]
