"""How exposed a systemd service is, on the 0-10 scale of `systemd-analyze security`: measured
by that command (`--offline=yes`, on the unit file itself) when it is installed, estimated with
the same weights otherwise.

The estimate weighs each setting as systemd 252's assessor does for a service missing all of
them (the exposure column of `systemd-analyze security --offline=yes` on a bare unit), grouped
by setting, and scales the sum so that a bare unit running as root scores what systemd gives
it (9.6). tests/check/test_rules_systemd.py holds it to within 0.6 of systemd's own score on
units from bare to fully hardened: enough to tell UNSAFE from OK."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from prodready.project.parsers.systemd import Unit

SERVICE = "Service"
BARE_ROOT_SCORE = 9.6
OVERALL = re.compile(r"Overall exposure level for \S+:\s*(?P<score>\d+(?:\.\d+)?)")
TIMEOUT_SECONDS = 20
TRUE = frozenset({"yes", "true", "on", "1"})


@dataclass(frozen=True)
class Exposure:
    score: float
    measured: bool
    """True when systemd-analyze gave the score, False for prodready's estimate."""
    missing: tuple[str, ...] = ()
    """The heaviest settings the unit lacks (estimate only), heaviest first."""

    @property
    def level(self) -> str:
        """systemd's words for the score."""
        if self.score < 2:
            return "PERFECT" if self.score < 1 else "SAFE"
        if self.score < 5:
            return "OK"
        if self.score < 7:
            return "MEDIUM"
        return "EXPOSED" if self.score < 9 else "UNSAFE"


def exposure(path: Path, unit: Unit) -> Exposure:
    measured = _measured(str(path), path.stat().st_mtime_ns) if _analyzer() else None
    return measured if measured is not None else estimate(unit)


def _analyzer() -> str | None:
    return shutil.which("systemd-analyze")


@lru_cache(maxsize=256)
def _measured(path: str, _mtime: int) -> Exposure | None:
    try:
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=yes", "--no-pager", path],
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = OVERALL.search(result.stdout)
    return Exposure(float(match["score"]), measured=True) if match else None


def _value(unit: Unit, name: str) -> str:
    return unit.value(SERVICE, name).strip().lower()


def _on(name: str) -> Callable[[Unit], bool]:
    return lambda unit: _value(unit, name) in TRUE


def _set(name: str) -> Callable[[Unit], bool]:
    """Any non-empty value restricts something (allow or `~` deny lists alike)."""
    return lambda unit: any(s.value.strip() for s in unit.all(SERVICE, name))


def _capabilities(unit: Unit) -> bool:
    """`CapabilityBoundingSet=` with an empty value drops every capability: the best case."""
    found = unit.get(SERVICE, "CapabilityBoundingSet")
    return found is not None and not found.value.strip().startswith("~")


def _non_root(unit: Unit) -> bool:
    return _value(unit, "DynamicUser") in TRUE or _value(unit, "User") not in ("", "root", "0")


def _protect_system(unit: Unit) -> bool:
    return _value(unit, "ProtectSystem") == "strict" or _value(unit, "DynamicUser") in TRUE


def _protect_home(unit: Unit) -> bool:
    return _value(unit, "ProtectHome") in TRUE | {"read-only", "tmpfs"} or _dynamic(unit)


def _dynamic(unit: Unit) -> bool:
    return _value(unit, "DynamicUser") in TRUE


def _implied_by_dynamic_user(name: str) -> Callable[[Unit], bool]:
    return lambda unit: _value(unit, name) in TRUE or _dynamic(unit)


def _namespaces(unit: Unit) -> bool:
    return _value(unit, "RestrictNamespaces") in TRUE


def _umask(unit: Unit) -> bool:
    value = _value(unit, "UMask")
    return bool(value) and value.endswith("7")


def _proc(unit: Unit) -> bool:
    return _value(unit, "ProtectProc") in ("invisible", "noaccess", "ptraceable")


def _subset(unit: Unit) -> bool:
    return _value(unit, "ProcSubset") == "pid"


WEIGHTS: tuple[tuple[str, float, Callable[[Unit], bool]], ...] = (
    ("CapabilityBoundingSet=", 3.8, _capabilities),
    ("SystemCallFilter=", 2.0, _set("SystemCallFilter")),
    ("RestrictAddressFamilies=", 1.0, _set("RestrictAddressFamilies")),
    ("RestrictNamespaces=yes", 0.9, _namespaces),
    ("PrivateNetwork=yes", 0.5, _on("PrivateNetwork")),
    ("User= (not root)", 0.4, _non_root),
    ("NoNewPrivileges=yes", 0.2, _implied_by_dynamic_user("NoNewPrivileges")),
    ("ProtectSystem=strict", 0.2, _protect_system),
    ("ProtectHome=yes", 0.2, _protect_home),
    ("PrivateTmp=yes", 0.2, _implied_by_dynamic_user("PrivateTmp")),
    ("PrivateDevices=yes", 0.2, _on("PrivateDevices")),
    ("ProtectKernelTunables=yes", 0.2, _on("ProtectKernelTunables")),
    ("ProtectKernelModules=yes", 0.2, _on("ProtectKernelModules")),
    ("ProtectKernelLogs=yes", 0.2, _on("ProtectKernelLogs")),
    ("ProtectControlGroups=yes", 0.2, _on("ProtectControlGroups")),
    ("ProtectClock=yes", 0.2, _on("ProtectClock")),
    ("RestrictSUIDSGID=yes", 0.2, _implied_by_dynamic_user("RestrictSUIDSGID")),
    ("PrivateUsers=yes", 0.2, _on("PrivateUsers")),
    ("PrivateMounts=yes", 0.2, _on("PrivateMounts")),
    ("SystemCallArchitectures=native", 0.2, _set("SystemCallArchitectures")),
    ("DeviceAllow=", 0.2, lambda unit: _set("DeviceAllow")(unit) or _on("PrivateDevices")(unit)),
    ("IPAddressDeny=", 0.2, _set("IPAddressDeny")),
    ("ProtectProc=invisible", 0.2, _proc),
    ("ProtectHostname=yes", 0.1, _on("ProtectHostname")),
    ("LockPersonality=yes", 0.1, _on("LockPersonality")),
    ("MemoryDenyWriteExecute=yes", 0.1, _on("MemoryDenyWriteExecute")),
    ("RestrictRealtime=yes", 0.1, _on("RestrictRealtime")),
    ("ProcSubset=pid", 0.1, _subset),
    ("UMask=0027", 0.1, _umask),
    ("RootDirectory=", 0.1, _set("RootDirectory")),
)
RESIDUAL = 1.16
"""What even a fully hardened unit keeps (system-call groups @system-service still allows,
supplementary groups ...): fitted so a unit with every setting above scores what systemd
gives it (1.5)."""
TOTAL_WEIGHT = sum(weight for _, weight, _ in WEIGHTS) + RESIDUAL


def estimate(unit: Unit) -> Exposure:
    missing = [(weight, name) for name, weight, present in WEIGHTS if not present(unit)]
    share = (sum(weight for weight, _ in missing) + RESIDUAL) / TOTAL_WEIGHT
    heaviest = tuple(name for _, name in sorted(missing, key=lambda item: -item[0]))
    return Exposure(round(BARE_ROOT_SCORE * share, 1), measured=False, missing=heaviest)
