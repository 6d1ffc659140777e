"""Production(app): framework detection, plain WSGI/ASGI serving, and start-up errors."""

from __future__ import annotations

import pytest

from prodready.errors import UserError
from prodready.runtime.production import Production, detect_framework


def test_detects_each_framework() -> None:
    import django
    from django.conf import settings
    from fastapi import FastAPI
    from flask import Flask
    from starlette.applications import Starlette

    if not settings.configured:
        settings.configure(ROOT_URLCONF=[], ALLOWED_HOSTS=["*"])
        django.setup()
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    async def asgi(scope, receive, send) -> None: ...

    def wsgi(environ, start_response) -> list[bytes]:
        return []

    assert detect_framework(Flask(__name__)) == "flask"
    assert detect_framework(FastAPI()) == "starlette"
    assert detect_framework(Starlette()) == "starlette"
    assert detect_framework(WSGIHandler()) == "django-wsgi"
    assert detect_framework(ASGIHandler()) == "django-asgi"
    assert detect_framework(asgi) == "asgi"
    assert detect_framework(wsgi) == "wsgi"


def test_not_an_app_and_unknown_options_are_clear_errors() -> None:
    with pytest.raises(UserError, match="needs a WSGI or ASGI app, got str") as caught:
        Production("main:app")
    assert "Production(app)" in (caught.value.hint or "")
    with pytest.raises(UserError, match=r"unknown option.*rate_limits") as caught:
        Production(lambda environ, start_response: [], rate_limits="1/second")
    assert "rate_limit" in (caught.value.hint or "")


@pytest.mark.server_errors(r"/boom")  # the test makes a handler raise
@pytest.mark.parametrize(("kind", "target"), [("uvicorn", "asgi_app:app"),
                                              ("gunicorn", "wsgi_app:app")])  # fmt: skip
def test_plain_apps_get_the_kit(serve, kind: str, target: str) -> None:
    server = serve(kind, target)
    hello = server.get("/hello", headers={"X-Request-ID": "plain-1"})
    assert hello.text == "hello" and hello.headers["X-Request-ID"] == "plain-1"
    boom = server.get("/boom")
    assert boom.status_code == 500 and boom.json() == {"error": "internal server error"}
    assert boom.headers["X-Request-ID"]
    metrics = server.get("/metrics").text
    assert 'http_requests_total{method="GET",route="<unmatched>",status="500"} 1.0' in metrics


def test_starlette_keeps_accepting_middleware_after_production() -> None:
    from fastapi import FastAPI
    from starlette.middleware.gzip import GZipMiddleware

    app = FastAPI()
    Production(app, json_logs=False)
    app.add_middleware(GZipMiddleware)
    assert type(app.build_middleware_stack()).__name__ == "KitASGIMiddleware"
