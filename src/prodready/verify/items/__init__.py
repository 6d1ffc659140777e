"""The scorecard items, in the order they run: static ones first, then those that read the
shared server, then those that load, reload or stop servers. Each module has
`verify(stage) -> ItemResult`; modules are imported only for the items that run."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from prodready.verify.model import ItemResult
    from prodready.verify.stage import Stage


class ItemFunction(Protocol):
    def __call__(self, stage: Stage) -> ItemResult: ...


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    loads: bool = False
    """Puts load on the app (skipped by --quick)."""

    def function(self) -> ItemFunction:
        return import_module(f"prodready.verify.items.{self.id}").verify  # type: ignore[no-any-return]


ITEMS: tuple[Item, ...] = (
    Item("check", "check"),
    Item("image", "image and unit"),
    Item("startup", "start-up"),
    Item("health", "health"),
    Item("metrics", "metrics"),
    Item("logs", "logs"),
    Item("tls", "security headers and TLS"),
    Item("limits", "limits"),
    Item("compare", "serve plan vs dev server", loads=True),
    Item("reload", "reload under load", loads=True),
    Item("deploy", "deploy and rollback", loads=True),
    Item("backup", "backup and restore"),
    Item("monitor", "monitor"),
    Item("shutdown", "graceful shutdown"),
)
ITEM_IDS = tuple(item.id for item in ITEMS)
