"""prodready.runtime: what a service needs at run time to be operated in production.

    from prodready.runtime import Production, checks
    prod = Production(app)                                # Flask, FastAPI, Django, WSGI, ASGI
    prod.check("db", checks.postgres(settings.database_url))
    risk_model = prod.service("risk_model", load_model)

Public API (each loaded on first access, so `import prodready.runtime` costs next to nothing):
`Production`, `checks`, `CheckResult`, `ProdSettings`, `LazyService`, `ServiceUnavailable`,
`begin_draining`, `current_request_id`, `configure_logging`, `get_logger`, and `streams`
(Server-Sent Events with replay: `prod.stream("reports")`).
For `prodready serve` and gunicorn.conf.py: `metrics.prepare_multiprocess_dir`,
`metrics.mark_worker_dead`, `logs.gunicorn_logconfig_dict`, `logs.GunicornLogger`,
`health.begin_draining`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prodready.runtime import checks
    from prodready.runtime.health import CheckResult, begin_draining
    from prodready.runtime.logs import configure_logging, get_logger
    from prodready.runtime.production import Production
    from prodready.runtime.requestid import current_request_id
    from prodready.runtime.services import LazyService, ServiceUnavailable
    from prodready.runtime.settings import ProdSettings

_EXPORTS = {
    "Production": "prodready.runtime.production",
    "CheckResult": "prodready.runtime.health",
    "begin_draining": "prodready.runtime.health",
    "ProdSettings": "prodready.runtime.settings",
    "LazyService": "prodready.runtime.services",
    "ServiceUnavailable": "prodready.runtime.services",
    "current_request_id": "prodready.runtime.requestid",
    "configure_logging": "prodready.runtime.logs",
    "get_logger": "prodready.runtime.logs",
}
_SUBMODULES = frozenset({"checks", "metrics", "logs", "health", "services", "settings", "streams"})

__all__ = [
    "CheckResult",
    "LazyService",
    "ProdSettings",
    "Production",
    "ServiceUnavailable",
    "begin_draining",
    "checks",
    "configure_logging",
    "current_request_id",
    "get_logger",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(_EXPORTS[name]), name)
    elif name in _SUBMODULES:
        value = import_module(f"prodready.runtime.{name}")
    else:
        raise AttributeError(f"module 'prodready.runtime' has no attribute {name!r}")
    globals()[name] = value
    return value
