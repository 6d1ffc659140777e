"""FastAPI and Starlette: the ASGI core goes outside the whole middleware stack.

Wrapping `build_middleware_stack` (rather than `add_middleware`) puts the kit outside
Starlette's ServerErrorMiddleware, so its 500 responses carry the request ID and headers,
while `app.add_middleware` keeps working after `Production(app)`.

The stack is built on the first request, so mounts added after `Production(app)` are seen too:
each mounted app notes its mount's path template in the scope, for the route label.

FastAPI (0.137+) no longer copies the routes of `include_router(router, prefix=...)`: the
request's scope["route"] is then the router's own route, whose path lacks the include
prefixes. The full templates come from FastAPI's public `iter_route_contexts`.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from prodready.runtime.adapters.routes import MOUNT_KEY, ROUTE_KEY, starlette_route
from prodready.runtime.core.asgi import KitASGIMiddleware
from prodready.runtime.kit import Kit


def install(app: Any, kit: Kit) -> None:
    build_stack = app.build_middleware_stack

    def build_stack_with_kit() -> Any:
        routes = getattr(app, "routes", ())
        _note_mount_prefixes(routes)
        included = _IncludedRoutes(routes)
        # Without routes included under a prefix (the usual app), scope["route"] says it all.
        route_of = included.route_of if included.contexts else starlette_route
        return KitASGIMiddleware(build_stack(), kit, route_of)

    app.build_middleware_stack = build_stack_with_kit
    if getattr(app, "middleware_stack", None) is not None:
        app.middleware_stack = build_stack_with_kit()


def docs_paths(app: Any) -> list[str]:
    """FastAPI's interactive docs pages, which need the relaxed CSP."""
    names = ("docs_url", "redoc_url", "swagger_ui_oauth2_redirect_url")
    return [path for path in (getattr(app, name, None) for name in names) if path]


def _note_mount_prefixes(routes: Any) -> None:
    from starlette.routing import Mount

    for route in routes:
        if isinstance(route, Mount) and not isinstance(route.app, _MountPrefix):
            _note_mount_prefixes(route.routes)
            route.app = _MountPrefix(route.app, route.path, leaf=not route.routes)


class _MountPrefix:
    """Wraps a mounted app: adds the mount's path template (/v1, /users/{user_id}) to the
    scope, which the router shares with the kit, so /v1/items/3 is labelled /v1/items/{id}.
    An app without routes (static files) is one route: /static/{path}."""

    def __init__(self, app: Any, prefix: str, leaf: bool) -> None:
        self.app = app
        self.prefix = prefix
        self.leaf = leaf

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        mounts = scope[MOUNT_KEY] = scope.get(MOUNT_KEY, "") + self.prefix
        if self.leaf:
            scope[ROUTE_KEY] = mounts + "/{path}"
        await self.app(scope, receive, send)


class _IncludedRoutes:
    """The full templates of the routes FastAPI reached through included routers, by route
    object; one route included twice (under /v1 and /v2) has two, told apart by matching."""

    def __init__(self, routes: Any) -> None:
        from starlette.routing import Match

        self.contexts: dict[int, list[Any]] = {}
        self._no_match = Match.NONE  # not imported per request: an import statement costs
        self._collect(routes)

    def _collect(self, routes: Any) -> None:
        from starlette.routing import Mount

        try:
            from fastapi.routing import iter_route_contexts
        except ImportError:  # plain Starlette, or a FastAPI that copies included routes
            return
        for context in iter_route_contexts(list(routes)):
            route = context.original_route
            if isinstance(route, Mount):
                self._collect(route.routes)
            elif context.path_format and context.path_format != getattr(route, "path", None):
                self.contexts.setdefault(id(route), []).append(context)

    def route_of(self, scope: MutableMapping[str, Any]) -> str:
        contexts = self.contexts.get(id(scope.get("route")))
        if not contexts:
            return starlette_route(scope)
        context = next((c for c in contexts if c.matches(scope)[0] != self._no_match), contexts[0])
        return scope.get(MOUNT_KEY, "") + context.path_format
