"""The hot model calls (chat, the chat stream, embeddings) sent without the SDK's builder.

The SDK's `post` parses the base URL again, merges and validates its headers into fresh
Headers objects and copies its options on every call: half of its CPU per call, measured
against the loopback model (0.93 -> 0.44 ms per chat call, alone and with 100 in flight).
`post_json` sends the same request through the same SDK client — its base URL, API key,
default headers (User-Agent, X-Stainless-*), timeout and connection pool — and fails the
way its `post` fails: a status >= 400 through the client's own error factory
(BadRequestError, RateLimitError ... carrying the response), a timeout as APITimeoutError,
any other transport failure as APIConnectionError. A client that authenticates in another
way than a fixed API key, or an SDK release without these parts, goes through `post`.
"""

from __future__ import annotations

import json
import ssl
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import openai

from bot.core.http_lite import http, parsed_url
from bot.core.llm_wire import idempotency_key, request_options


@contextmanager
def as_sdk_errors(request: http.Request) -> Iterator[None]:
    """Transport failures as the SDK's `post` reports them: a timeout as APITimeoutError,
    anything else on the wire (refused, reset, TLS) as APIConnectionError."""
    try:
        yield
    except http.TimeoutException as exc:
        raise openai.APITimeoutError(request=request) from exc
    except (http.RequestError, ssl.SSLError) as exc:
        raise openai.APIConnectionError(request=request) from exc


@dataclass(frozen=True, slots=True)
class _Route:
    """What every request of one client carries: where to, and its fixed headers."""

    base: str  # the base URL, ending with "/"
    headers: dict[str, str]
    idempotency_header: str | None


_ROUTES: weakref.WeakKeyDictionary[Any, _Route | None] = weakref.WeakKeyDictionary()


def _route(client: Any) -> _Route | None:
    """How to send for this client, worked out once; None when only the SDK knows."""
    try:
        return _ROUTES[client]
    except KeyError:
        pass
    route = None
    api_key = getattr(client, "api_key", None)
    sdk_parts = hasattr(client, "_client") and hasattr(client, "_make_status_error_from_response")
    if isinstance(api_key, str) and api_key and sdk_parts:
        auth = client.auth_headers
        if auth == {"Authorization": f"Bearer {api_key}"}:  # a fixed key, no token refresh
            # the SDK's order: the pool's own (Accept-Encoding...), the key, its defaults
            merged = http.Headers(client._client.headers)
            merged.update(auth)
            merged.update({k: v for k, v in client.default_headers.items() if isinstance(v, str)})
            merged["x-stainless-retry-count"] = "0"  # retries are tenacity's, each new
            headers = dict(merged.multi_items())
            base = str(client.base_url)
            route = _Route(
                base if base.endswith("/") else base + "/",
                headers,
                getattr(client, "_idempotency_header", None),
            )
    _ROUTES[client] = route
    return route


async def post_json(
    client: openai.AsyncOpenAI, path: str, body: Any, *, stream: bool = False
) -> Any:
    """POST `body` to `path` of the client's endpoint: the parsed JSON answer (the text when
    the server does not say it is JSON), or with `stream` the open response to read."""
    route = _route(client)
    if route is None:
        cast_to: Any = http.Response if stream else object
        return await client.post(
            path, body=body, cast_to=cast_to, options=request_options(), stream=stream
        )
    timeout = http.Timeout(client.timeout)  # a `with_options` copy may have a shorter one
    headers = dict(route.headers)
    if timeout.read is not None:
        headers["x-stainless-read-timeout"] = str(timeout.read)
    if route.idempotency_header:
        headers[route.idempotency_header] = idempotency_key()
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    request = http.Request(
        "POST",
        parsed_url(route.base + path.lstrip("/")),
        headers=headers,
        content=content.encode(),
        extensions={"timeout": timeout.as_dict()},
    )
    pool: http.AsyncClient = client._client
    with as_sdk_errors(request):
        response = await pool.send(request, stream=stream)
    if not response.is_success:
        try:
            await response.aread()
        finally:
            await response.aclose()
        raise client._make_status_error_from_response(response) from None
    if stream:
        return response
    content_type = response.headers.get("content-type", "*").split(";", 1)[0]
    return response.json() if content_type.endswith("json") else response.text
