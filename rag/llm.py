"""The LLM endpoint behind one small class: OpenAI itself or any OpenAI-compatible server.

Every failure (unreachable, timeout, HTTP error, a reply that is not a chat completion) becomes a
``BackendError`` so callers can fall back to the offline answer with a clear message.
"""

from __future__ import annotations

from collections.abc import Iterator

from index.errors import BackendError
from rag.settings import LLMSettings


class ChatClient:
    """Chat completions, whole or streamed, with the settings' model, timeout and temperature, and no silent retries."""

    def __init__(self, settings: LLMSettings):
        from openai import OpenAI

        self._client = OpenAI(
            base_url=settings.llm_base_url or None,
            api_key=settings.llm_api_key or "not-needed",
            timeout=settings.llm_timeout,
            max_retries=0,
        )
        self.model = settings.llm_model
        self.endpoint = settings.llm_base_url or "https://api.openai.com/v1"
        self._max_tokens = settings.llm_max_tokens
        self._temperature = settings.llm_temperature

    def complete(self, messages: list[dict], max_tokens: int | None = None) -> str:
        return "".join(self.stream(messages, max_tokens=max_tokens))

    def stream(self, messages: list[dict], max_tokens: int | None = None) -> Iterator[str]:
        import httpx
        import openai

        try:
            response = self._client.chat.completions.create(
                model=self.model, messages=messages, stream=True, temperature=self._temperature,
                max_tokens=max_tokens or self._max_tokens,
            )
            finished = False
            for event in response:
                # A compatible server may send events of another shape: read them field by field
                # (openai builds its event objects without validating them).
                choices = getattr(event, "choices", None)
                choice = choices[0] if isinstance(choices, list) and choices else None
                if choice is None:
                    continue
                content = getattr(getattr(choice, "delta", None), "content", None)
                if isinstance(content, str) and content:
                    yield content
                finished = finished or getattr(choice, "finish_reason", None) is not None
            # A connection closed mid-answer can look like the end of the stream; a real end says why it ended.
            if not finished:
                raise BackendError(f"the LLM at {self.endpoint} stopped mid-answer (the connection was closed)")
        except openai.APITimeoutError:
            raise BackendError(f"the LLM at {self.endpoint} did not answer in time") from None
        except openai.APIConnectionError:
            raise BackendError(f"cannot reach the LLM at {self.endpoint}") from None
        except openai.APIStatusError as exc:
            raise BackendError(f"the LLM at {self.endpoint} refused the request ({exc.status_code})") from None
        except httpx.HTTPError:  # raised while reading a stream that openai has already handed over
            raise BackendError(f"the LLM at {self.endpoint} stopped mid-answer (the connection failed)") from None
        except (openai.OpenAIError, ValueError) as exc:  # an error event; an event that is not JSON
            raise BackendError(f"the LLM at {self.endpoint} sent an unusable reply ({type(exc).__name__})") from None
