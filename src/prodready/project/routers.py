"""Full route paths: the prefixes Blueprints and APIRouters get, resolved across modules.

A route is written on a router variable (`@bp.route("/tokens")`); its path in production is
the prefixes of every registration above it (`app.register_blueprint(api_bp, url_prefix="/api")`
in a factory, under another name, in another module; blueprints nested in blueprints). The
scanner records what each module says (routers, mounts, import aliases); this module follows
names to the module that defines them and walks the mounts up to the app.

Semantics follow the frameworks: Flask's `register_blueprint(url_prefix=...)` replaces the
Blueprint's own `url_prefix`, FastAPI's `include_router(prefix=...)` goes before the router's.
"""

from __future__ import annotations

from collections.abc import Iterable

from prodready.project.model import ModuleSummary

RouterKey = tuple[str, str]
"""(module that defines the router, its variable name)."""
MAX_HOPS = 8
"""Re-exports followed when resolving a name (`from shop.api import bp` of a re-export ...)."""


class RouterPrefixes:
    def __init__(self, summaries: Iterable[ModuleSummary]) -> None:
        self._by_module = {s.module: s for s in summaries}
        self._mounts: dict[RouterKey, list[tuple[RouterKey | None, str | None, bool]]] = {}
        for summary in self._by_module.values():
            for mount in summary.router_mounts:
                child = self.resolve(summary, mount.child)
                if child is not None:
                    parent = self.resolve(summary, mount.parent)  # None: the app itself
                    entry = (parent, mount.prefix, mount.replaces_own_prefix)
                    self._mounts.setdefault(child, []).append(entry)

    def of(self, summary: ModuleSummary, owner: str) -> list[str]:
        """Every full prefix the routes on `owner` (a name in `summary`) are served under."""
        key = self.resolve(summary, owner)
        return self._full(key, frozenset()) if key else [""]

    def resolve(self, summary: ModuleSummary, name: str) -> RouterKey | None:
        """The router `name` refers to in `summary`'s module, following imports."""
        for _ in range(MAX_HOPS):
            head, _, rest = name.partition(".")
            if not rest and name in summary.routers:
                return summary.module, name
            target = summary.import_aliases.get(head)
            if target is None:
                return None
            full = f"{target}.{rest}" if rest else target
            module, _, attribute = full.rpartition(".")
            found = self._module(module)
            if found is None or not attribute:
                return None
            summary, name = found, attribute
        return None

    def _module(self, name: str) -> ModuleSummary | None:
        found = self._by_module.get(name)
        if found is None:  # imported by a longer name than its path gives (a src/ layout)
            found = next((s for m, s in self._by_module.items() if name.endswith("." + m)), None)
        return found

    def _full(self, key: RouterKey, seen: frozenset[RouterKey]) -> list[str]:
        own = self._by_module[key[0]].routers[key[1]]
        mounts = self._mounts.get(key)
        if not mounts or key in seen:
            return [own or ""]
        prefixes: list[str] = []
        for parent, given, replaces in mounts:
            if replaces:
                mine = given if given is not None else own or ""
            else:
                mine = join(given or "", own or "")
            above = self._full(parent, seen | {key}) if parent else [""]
            prefixes += [join(prefix, mine) for prefix in above]
        return list(dict.fromkeys(prefixes))


def join(prefix: str, path: str) -> str:
    """`/api` + `/tokens` -> `/api/tokens`; a route "" on a prefix is the prefix itself."""
    if not prefix:
        return path
    if not path:
        return prefix
    return prefix.rstrip("/") + "/" + path.lstrip("/")
