"""`Stream.response(key)` per framework: the same frames, in each framework's streaming type.

- Starlette/FastAPI and plain ASGI: an ASGI response that reads Last-Event-ID from the scope
  and ends the stream when the server reports `http.disconnect`.
- Flask: a streamed `flask.Response`; Django: a `StreamingHttpResponse` (sync under WSGI,
  async under ASGI, where Django cancels it when the client disconnects).
- Plain WSGI: a WSGI app.
"""

from __future__ import annotations

import asyncio
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

from prodready.errors import UserError
from prodready.runtime.streams import sse
from prodready.runtime.streams.brokers import Wake

if TYPE_CHECKING:
    from prodready.runtime.streams.stream import Stream

LAST_EVENT_ID = "Last-Event-ID"


def build(stream: Stream, key: Any, request: Any) -> Any:
    framework = stream.framework or _guess_framework(request)
    if framework == "flask":
        import flask

        last = (request or flask.request).headers.get(LAST_EVENT_ID)
        return flask.Response(stream.frames(key, last), headers=sse.HEADERS)
    if framework in ("starlette", "asgi"):
        return _asgi_response_class()(stream, key)
    if framework.startswith("django"):
        if request is None:
            raise UserError(
                f"stream {stream.name!r}: Django needs the request: stream.response(key, request)",
                hint="pass the view's request so the stream can read its Last-Event-ID",
            )
        from django.http import StreamingHttpResponse

        last = request.headers.get(LAST_EVENT_ID)
        frames: Any
        if framework == "django-asgi":
            # Django sends the headers before it asks for the first frame: the start is read
            # now (one short Redis read), so a client that sees the headers misses nothing.
            head = stream.broker.head(stream.channel(key))
            frames = stream.aframes(key, last, head=head)
        else:
            frames = stream.frames(key, last)
        response = StreamingHttpResponse(frames, content_type=sse.HEADERS[0][1])
        for name, value in sse.HEADERS[1:]:
            response[name] = value
        return response
    return WSGIStreamApp(stream, key)


def _guess_framework(request: Any) -> str:
    """For a Stream made outside `prod.stream()`: the request's framework, else the one
    serving this request."""
    if request is not None:
        module = type(request).__module__.split(".")[0]
        if module == "django":
            return "django-asgi" if "ASGI" in type(request).__name__ else "django-wsgi"
        return module if module in ("flask", "starlette") else "asgi"
    flask = sys.modules.get("flask")
    if flask is not None and flask.has_request_context():
        return "flask"
    return "starlette"


class WSGIStreamApp:
    """A WSGI app serving one stream (for plain WSGI apps)."""

    def __init__(self, stream: Stream, key: Any) -> None:
        self.stream = stream
        self.key = key

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        start_response("200 OK", list(sse.HEADERS))
        return self.stream.frames(self.key, environ.get("HTTP_LAST_EVENT_ID"))


@cache
def _asgi_response_class() -> type:
    """A Starlette Response subclass when Starlette is installed (FastAPI returns Response
    instances as they are), else a plain class; both are ASGI apps."""
    try:
        from starlette.responses import Response as base
    except ImportError:  # a plain ASGI app without Starlette
        base = object  # type: ignore[assignment, misc]

    class SSEResponse(base):  # type: ignore[misc, valid-type]
        media_type = sse.HEADERS[0][1]
        background = None

        def __init__(self, stream: Stream, key: Any) -> None:
            self.stream = stream
            self.key = key
            self.status_code = 200

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            last = None
            for name, value in scope.get("headers", ()):
                if name == b"last-event-id":
                    last = value.decode("latin-1")
            wake = Wake()
            watcher = asyncio.ensure_future(_watch_disconnect(receive, wake))
            headers = [(name.encode(), value.encode()) for name, value in sse.HEADERS]
            frames = self.stream.aframes(self.key, last, wake)
            try:
                # The first frame fixes where the stream starts: only then the headers, so a
                # client that sees them misses nothing published afterwards.
                opening = await anext(frames)
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": opening, "more_body": True})
                async for frame in frames:
                    await send({"type": "http.response.body", "body": frame, "more_body": True})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            finally:
                watcher.cancel()
                await frames.aclose()

    return SSEResponse


async def _watch_disconnect(receive: Any, wake: Wake) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            wake.stop()
            return
