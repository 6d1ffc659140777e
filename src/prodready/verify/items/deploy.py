"""deploy and rollback: `prodready deploy` of the app into a deploy root in the work dir, with
nginx in front of it, then a second deploy and a rollback while `prodready load` sends
requests through that nginx; every failed request (refused, reset, timed out, answered 400 or
more, nginx's 502 included) counts.

Deploy runs as the command it is (a child process), with the app's environment. It installs
each release's dependencies offline: verify reaches no network, so an app whose locked
packages are not in this machine's package cache is skipped, not failed. `--skip-check`: the
check item reports the findings that would stop the deploy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prodready.deploy.layout import Layout
from prodready.deploy.supervisors import ProcessSupervisor, ServeOptions
from prodready.generate.validate import find_tool
from prodready.load import LoadResult
from prodready.verify.deployfront import DeployFront, deploy_front
from prodready.verify.http import request
from prodready.verify.loadroutes import choose_routes
from prodready.verify.loadrun import (
    TIMEOUT_S,
    failed,
    failure_text,
    load_config,
    p99_series,
    start_flowing,
)
from prodready.verify.model import ItemResult
from prodready.verify.stage import Stage

ID = "deploy"
TITLE = "deploy and rollback"
RATE = 100.0
"""Requests per second (open model): steady traffic, the CPUs left to the new generation."""
CONNECTIONS = 16
GATE_TIMEOUT_S = 20
STEP_TIMEOUT_S = 40.0
LOAD_LIMIT_S = 150.0
SETTLE_S = 0.5
OFFLINE = {"UV_OFFLINE": "1", "PIP_NO_INDEX": "1"}
OFFLINE_SIGNS = ("network was disabled", "offline", "No matching distribution")


@dataclass
class Step:
    action: str
    seconds: float
    outcome: dict[str, Any] | None
    stderr: str = ""

    @property
    def error(self) -> str:
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("error: ")]
        return lines[0].removeprefix("error: ") if lines else self.stderr.strip()[-200:]

    def text(self) -> str:
        if self.outcome is None:
            return f"{self.action} failed after {self.seconds:.1f} s: {self.error}"
        was = f" (was {self.outcome['previous']})" if self.outcome.get("previous") else ""
        return f"{self.action} to {self.outcome['release']}{was} in {self.seconds:.1f} s"


@dataclass
class Deployer:
    stage: Stage
    root: Path
    front: DeployFront
    steps: list[Step] = field(default_factory=list)

    def run(self, action: str) -> Step:
        stage, front = self.stage, self.front
        common = ["--root", str(self.root), "--server", stage.options.server, "--timeout"]
        common += [str(GATE_TIMEOUT_S), "--nginx-prefix", str(front.prefix)]
        common += ["--nginx-conf", str(front.conf), "--json", "--quiet"]
        source = [str(stage.app_dir), "--app", stage.target, "--skip-check"]
        argv = [sys.executable, "-m", "prodready.cli.main", action]
        argv += source + common if action == "deploy" else common
        env = {**os.environ, **self.stage.app_env, **OFFLINE}
        began = time.monotonic()
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        try:
            out, err = process.communicate(timeout=STEP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGTERM)  # deploy unwinds: the new generation stops
            out, err = process.communicate(timeout=30)
            err = f"error: ran over {STEP_TIMEOUT_S:.0f} s\n{err}"
        outcome = json.loads(out) if process.returncode == 0 and out.strip() else None
        step = Step(action, time.monotonic() - began, outcome, err)
        self.steps.append(step)
        return step

    def stop_generations(self) -> None:
        supervisor = ProcessSupervisor(Layout(self.root), ServeOptions(self.stage.options.server))
        for generation in supervisor.generations():
            supervisor.stop(generation)


def verify(stage: Stage) -> ItemResult:
    nginx = find_tool("nginx")
    if nginx is None:
        return ItemResult.skipped(ID, TITLE, "nginx is not installed: deploy switches at nginx")
    root = stage.work / "deploy"
    front = deploy_front(stage.work / "deploy-nginx", root, stage.options.server_name)
    deployer = Deployer(stage, root, front)
    try:
        return _deploy_and_roll_back(deployer, nginx)
    finally:
        deployer.stop_generations()
        front.stop()


def _deploy_and_roll_back(deployer: Deployer, nginx: str) -> ItemResult:
    first = deployer.run("deploy")
    if first.outcome is None:
        if any(sign in first.stderr for sign in OFFLINE_SIGNS):
            return ItemResult.skipped(
                ID, TITLE, "the app's packages are not in the local cache (verify stays offline)",
                details=[first.text()], log=first.stderr[-2000:],
            )  # fmt: skip
        return ItemResult.failed(
            ID, TITLE, f"the first deploy failed: {first.error}"[:88],
            details=[first.text()], log=first.stderr[-3000:],
        )  # fmt: skip
    front = deployer.front
    why = front.start(nginx)
    if why:
        return ItemResult.failed(ID, TITLE, "nginx did not start in front of the deploy root",
                                 details=[why])  # fmt: skip
    routes = choose_routes(
        deployer.stage.project, lambda path: request(front.port, path, timeout=TIMEOUT_S)
    )
    if routes.light is None:
        return ItemResult.skipped(
            ID, TITLE, "no detected GET route answers 2xx through nginx",
            details=[f"tried {r}" for r in routes.refused],
        )  # fmt: skip
    path = routes.light.path
    url = f"http://127.0.0.1:{front.port}{path}"
    config = load_config(url, {}, connections=CONNECTIONS, duration=LOAD_LIMIT_S, rate=RATE)
    load = start_flowing(config)
    try:
        time.sleep(SETTLE_S)
        if deployer.run("deploy").outcome is not None:
            deployer.run("rollback")
        time.sleep(SETTLE_S)
    finally:
        load.stop()
    return _judged(deployer, load.wait(timeout=30), path)


def _judged(deployer: Deployer, result: LoadResult, path: str) -> ItemResult:
    first, *loaded = deployer.steps
    details = [
        f"{first.text()}, before the load",
        f"load: prodready.load, {RATE:g} requests/s (open model) on {CONNECTIONS} connections "
        f"to GET {path} through nginx on 127.0.0.1:{deployer.front.port} (plain HTTP in front "
        "of the deploy root's socket: the load tool cannot send the generated site's name as "
        "SNI, and the site's rate limit would answer 429)",
        *(f"{step.text()}, under load" for step in loaded),
        f"{result.responses} responses, failed requests: {failure_text(result)}",
        "deploy --skip-check: the check item reports what would stop a deploy",
    ]
    measures: dict[str, int | float | str | bool] = {
        "failed_requests": failed(result),
        "responses": result.responses,
        "p99_ms": result.latency_ms(99),
        "max_ms": result.latency_ms(100),
        **{f"{step.action}_s": round(step.seconds, 1) for step in loaded},
    }
    kw = {"measures": measures, "details": details, "series": {"p99_ms": p99_series(result)}}
    broken = next((step for step in loaded if step.outcome is None), None)
    if broken:
        summary = f"{broken.action} under load failed: {broken.error}"[:88]
        return ItemResult.failed(ID, TITLE, summary, log=broken.stderr[-3000:], **kw)
    if failed(result):
        summary = (
            f"{failed(result)} of {result.attempts} requests failed during deploy and rollback"
        )
        return ItemResult.failed(ID, TITLE, summary, log=deployer.front.error_tail(), **kw)
    summary = (
        f"0 failed of {result.responses} requests across a deploy and a rollback, "
        f"p99 {result.latency_ms(99):.0f} ms"
    )
    return ItemResult.passed(ID, TITLE, summary, **kw)
