"""`prodready deploy --status`: releases, which is current, each generation's health, and the
last deploy's steps with their timings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prodready.deploy.gate import get
from prodready.deploy.journal import last_run
from prodready.deploy.layout import Layout
from prodready.deploy.supervisors import ProcessSupervisor, ServeOptions


def status(root: Path) -> dict[str, Any]:
    layout = Layout(root)
    supervisor = ProcessSupervisor(layout, ServeOptions())
    current = layout.current_id()
    releases = []
    for release_id in layout.complete_releases():
        info = layout.release_info(release_id)
        running = supervisor.running(release_id)
        releases.append(
            {
                "id": release_id,
                "source": info.get("source"),
                "current": release_id == current,
                "served": "served" in info,
                "generation": "running" if running else "stopped",
                "health": _health(layout, release_id, str(info.get("health_path") or "/"))
                if running
                else None,
            }
        )
    return {
        "root": str(root),
        "current": current,
        "serving": layout.serving_id(),
        "releases": releases,
        "last": last_run(layout.log),
    }


def _health(layout: Layout, release_id: str, path: str) -> str:
    try:
        return f"GET {path}: {get(str(layout.socket(release_id)), path)}"
    except OSError as error:
        return f"GET {path}: {error.strerror or error}"


def render(report: dict[str, Any]) -> str:
    lines = [f"{report['root']}: current {report['current'] or 'none'}"]
    for release in reversed(report["releases"]):
        mark = "*" if release["current"] else " "
        health = f", {release['health']}" if release["health"] else ""
        lines.append(
            f" {mark} {release['id']:<24} {release['generation']}{health}  ({release['source']})"
        )
    last = report["last"]
    if last:
        first = last[0]
        lines.append(f"last {first['action']} ({first['run']}):")
        for step in last:
            message = f"  {step['message']}" if step["message"] else ""
            lines.append(
                f"  {step['step']:<16} {step['status']:<8} {step['seconds']:7.2f} s{message}"
            )
    return "\n".join(lines)
