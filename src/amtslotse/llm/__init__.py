"""The LLM layer: one `LLM` protocol, one registry, built-in providers.

    from amtslotse.llm import ChatMessage, LLMError, get_llm

    llm = get_llm()  # None when no LLM is configured (AMTSLOTSE_LLM_BASE_URL empty)
    if llm is not None:
        try:
            text = llm.complete([ChatMessage("user", "Was ist ein Widerspruch?")])
        except LLMError as error:
            print(error)  # German, without the API key

See protocol.py for writing a provider and registry.py for registering it.
"""

from amtslotse.llm.protocol import (
    LLM,
    ChatMessage,
    LLMBadResponseError,
    LLMError,
    LLMTimeoutError,
    LLMUnreachableError,
)
from amtslotse.llm.registry import LLMFactory, available_llms, get_llm, provider_name, register_llm

__all__ = [
    "LLM",
    "ChatMessage",
    "LLMBadResponseError",
    "LLMError",
    "LLMFactory",
    "LLMTimeoutError",
    "LLMUnreachableError",
    "available_llms",
    "get_llm",
    "provider_name",
    "register_llm",
]
