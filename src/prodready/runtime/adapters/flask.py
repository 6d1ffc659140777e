"""Flask: the WSGI core wraps `app.wsgi_app`; the request class notes the matched URL rule."""

from __future__ import annotations

from typing import Any

from prodready.runtime.adapters.routes import ROUTE_KEY, stored_route
from prodready.runtime.core.wsgi import KitWSGIMiddleware
from prodready.runtime.kit import Kit


def install(app: Any, kit: Kit) -> None:
    app.request_class = _route_noting(app.request_class)
    app.wsgi_app = KitWSGIMiddleware(app.wsgi_app, kit, stored_route)


def _route_noting(request_class: type) -> type:
    """A subclass of the app's request class that copies the rule Flask matched into the
    environ as Flask sets it, for the core to read after the app has run.

    A property costs nothing measurable; a before_request hook cost ~3 us a request (Flask
    wraps each hook call and reaches the request through its context-local proxy), and would
    miss requests that an earlier hook answered.
    """

    class RouteNotingRequest(request_class):  # type: ignore[misc, valid-type]
        _rule: Any = None

        @property
        def url_rule(self) -> Any:
            return self._rule

        @url_rule.setter
        def url_rule(self, rule: Any) -> None:
            self._rule = rule
            if rule is not None:
                self.environ[ROUTE_KEY] = rule.rule

    return RouteNotingRequest
