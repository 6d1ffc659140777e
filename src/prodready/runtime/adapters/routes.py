"""Where each framework leaves the matched route template, read after the app has run."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from prodready.runtime.metrics import UNMATCHED_ROUTE

ROUTE_KEY = "prodready.route"
"""Adapters that cannot be read from outside (Flask, Django) store the template here, in the
WSGI environ or ASGI scope, while the framework handles the request."""


def stored_route(scope_or_environ: MutableMapping[str, Any]) -> str:
    return scope_or_environ.get(ROUTE_KEY) or UNMATCHED_ROUTE


MOUNT_KEY = "prodready.mount"
"""The path templates of the Starlette mounts a request went through, joined."""


def starlette_route(scope: MutableMapping[str, Any]) -> str:
    """Starlette's router leaves the matched Route in scope["route"]; its `path` is the
    template (/items/{item_id}), never the raw path. Under a mount, the mounts' templates
    come first; an app mounted without routes (static files) left its label in ROUTE_KEY."""
    path = getattr(scope.get("route"), "path", None)
    if path:
        return scope.get(MOUNT_KEY, "") + path
    return scope.get(ROUTE_KEY) or UNMATCHED_ROUTE
