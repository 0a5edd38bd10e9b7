"""Request bodies bounded before they are read: WEB_MAX_BODY_BYTES, whatever the client says.

The limit sits on the ASGI `receive` channel, under every route: a body declared larger
(Content-Length) is refused at the first read, before any of it is taken in, and a streamed
(chunked) body as soon as what arrived passes the limit. The refusal is a 413 the app's own
handlers render (JSON under /api, a page under /f). A route that refuses a call without
reading its body (no API key, a forged link) never takes the body in at all.
"""

from __future__ import annotations

from fastapi import HTTPException, status
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from settings import settings


def too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        detail=f"The request is too large: at most {limit} bytes are accepted.",
    )


class LimitBody:
    """ASGI middleware: read at most WEB_MAX_BODY_BYTES of any request's body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = settings.web_max_body_bytes
        declared = Headers(scope=scope).get("content-length", "")
        received = 0

        async def limited() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > limit:
                raise too_large(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        await self.app(scope, limited, send)
