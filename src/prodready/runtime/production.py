"""`Production(app)`: one line that makes a Flask, FastAPI/Starlette, Django, WSGI or ASGI app
operable in production (health, metrics, JSON logs with request IDs, rate limits, security
headers, CORS, body limits, lazy services).

    prod = Production(app)                                # detects the framework
    prod.check("db", checks.postgres(settings.database_url))
    risk_model = prod.service("risk_model", load_model)   # built once, on first use, after fork

Flask and FastAPI/Starlette apps are changed in place: keep serving `app`. For Django and
plain WSGI/ASGI callables, serve the Production object itself:

    application = Production(get_wsgi_application())

The object is a WSGI callable for WSGI apps and an ASGI callable for ASGI apps, so servers
(Gunicorn, uvicorn, Granian) detect the right interface either way.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prodready.errors import UserError
from prodready.runtime.health import Check, HealthRegistry, install_drain_on_sigterm
from prodready.runtime.kit import Kit
from prodready.runtime.options import Options
from prodready.runtime.services import LazyService

if TYPE_CHECKING:
    from prodready.runtime.streams import Stream

FRAMEWORK_CLASSES = {
    ("flask", "Flask"): "flask",
    ("starlette", "Starlette"): "starlette",
    ("django", "WSGIHandler"): "django-wsgi",
    ("django", "ASGIHandler"): "django-asgi",
}
ASGI_FRAMEWORKS = frozenset({"starlette", "django-asgi", "asgi"})


def detect_framework(app: Any) -> str:
    """flask | starlette (FastAPI too) | django-wsgi | django-asgi | asgi | wsgi."""
    for cls in type(app).__mro__:
        framework = FRAMEWORK_CLASSES.get((cls.__module__.split(".")[0], cls.__name__))
        if framework:
            return framework
    if inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(type(app).__call__):
        return "asgi"
    if callable(app):
        return "wsgi"
    raise UserError(
        f"Production() needs a WSGI or ASGI app, got {type(app).__name__}",
        hint="pass the app object itself, e.g. Production(app) after app = Flask(__name__)",
    )


class Production:
    """The kit installed on one app. See the module docstring.

    Options (all keyword, see `prodready.runtime.options.Options` for defaults): health and
    metrics paths, `rate_limit`, `route_limits`, `global_limit`, `rate_limit_storage`,
    `trusted_proxies`, `cors_origins`, `cors_allow_credentials`, `max_body_size`,
    `route_body_limits`, `security_headers`, `content_security_policy`, `access_log`,
    `json_logs`, `log_level`, ... and `settings=` to take them from a settings object.
    Bad options raise `prodready.errors.UserError` with a hint, at start-up.
    """

    framework: str

    def __new__(cls, app: Any, **_options: Any) -> Production:
        if cls is Production:
            cls = _ASGIProduction if detect_framework(app) in ASGI_FRAMEWORKS else _WSGIProduction
        return super().__new__(cls)

    def __init__(self, app: Any, *, settings: Any = None, **options: Any) -> None:
        self.options = Options.build(settings, **options)
        if self.options.json_logs:
            from prodready.runtime.logs import configure_logging

            configure_logging(self.options.log_level)
        self.app = app
        self.framework = detect_framework(app)
        self.health = HealthRegistry(ttl=self.options.check_ttl)
        self.services: dict[str, LazyService[Any]] = {}
        self._target = self._install()
        install_drain_on_sigterm()

    def check(
        self,
        name: str,
        check: Check | Callable[[], Any],
        *,
        critical: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        """Adds a health check: a built-in one from `prodready.runtime.checks` or any callable
        (sync or async; see `checks.custom`). Critical checks decide readiness."""
        if not isinstance(check, Check):
            from prodready.runtime.checks import custom

            check = custom(check)
        check = check.named(name)
        if critical is not None or timeout is not None:
            from dataclasses import replace

            check = replace(
                check,
                critical=check.critical if critical is None else critical,
                timeout=check.timeout if timeout is None else timeout,
            )
        self.health.add(check)

    def service(self, name: str, factory: Callable[[], Any]) -> LazyService[Any]:
        """A lazy service built on first use (see `prodready.runtime.services`); readiness
        fails while it cannot be built."""
        service: LazyService[Any] = LazyService(name, factory)
        self.services[name] = service
        self.health.add(service.health_check())
        return service

    def stream(self, name: str, **options: Any) -> Stream:
        """Declares a family of Server-Sent Event channels: `stream.response(key)` in a route,
        `stream.publish(key, data, event=...)` from anywhere. Options: see
        `prodready.runtime.streams.Stream` (`broker="redis://..."` for several processes)."""
        from prodready.runtime.streams import Stream

        options.setdefault("metrics", self.options.metrics)
        return Stream(name, framework=self.framework, **options)

    def _install(self) -> Any:
        framework = self.framework
        asgi = framework in ASGI_FRAMEWORKS
        relaxed: list[str] = []
        if framework == "starlette":
            from prodready.runtime.adapters import starlette

            relaxed = starlette.docs_paths(self.app)
        kit = Kit(self.options, self.health, relaxed, asynchronous=asgi)
        if framework == "flask":
            from prodready.runtime.adapters import flask

            flask.install(self.app, kit)
            return self.app
        if framework == "starlette":
            starlette.install(self.app, kit)
            return self.app
        if framework.startswith("django"):
            from prodready.runtime.adapters import django

            return django.install(self.app, kit, asgi=asgi)
        from prodready.runtime.adapters.routes import stored_route

        if asgi:
            from prodready.runtime.core.asgi import KitASGIMiddleware

            return KitASGIMiddleware(self.app, kit, stored_route)
        from prodready.runtime.core.wsgi import KitWSGIMiddleware

        return KitWSGIMiddleware(self.app, kit, stored_route)


class _WSGIProduction(Production):
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self._target(environ, start_response)


class _ASGIProduction(Production):
    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._target(scope, receive, send)
