"""FastAPI and Starlette: the ASGI core goes outside the whole middleware stack.

Wrapping `build_middleware_stack` (rather than `add_middleware`) puts the kit outside
Starlette's ServerErrorMiddleware, so its 500 responses carry the request ID and headers,
while `app.add_middleware` keeps working after `Production(app)`.
"""

from __future__ import annotations

from typing import Any

from prodready.runtime.adapters.routes import starlette_route
from prodready.runtime.core.asgi import KitASGIMiddleware
from prodready.runtime.kit import Kit


def install(app: Any, kit: Kit) -> None:
    build_stack = app.build_middleware_stack

    def build_stack_with_kit() -> Any:
        return KitASGIMiddleware(build_stack(), kit, starlette_route)

    app.build_middleware_stack = build_stack_with_kit
    if getattr(app, "middleware_stack", None) is not None:
        app.middleware_stack = build_stack_with_kit()


def docs_paths(app: Any) -> list[str]:
    """FastAPI's interactive docs pages, which need the relaxed CSP."""
    names = ("docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")
    return [path for path in (getattr(app, name, None) for name in names) if path]
