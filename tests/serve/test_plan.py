"""compute_plan on fixed machines: each number and the reason given for it (no processes)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from prodready.errors import AppNotFoundError, UsageError
from prodready.project import detect
from prodready.serve.machine import Machine
from prodready.serve.plan import THREAD_WORKER, Overrides, ServerPlan, compute_plan
from prodready.serve.probe import AppTarget, ProbeResult

APPS = Path(__file__).parent / "apps"
MIB = 1 << 20


def machine(cpus: int = 2, memory_mib: int = 4096) -> Machine:
    return Machine(cpus, f"{cpus} CPUs", memory_mib * MIB, "test", "/dev/shm")


def plan_for(
    target: str = "flaskapp:app",
    on: Machine | None = None,
    rss_mib: int = 50,
    interface: str = "wsgi",
    **overrides,
) -> ServerPlan:
    probe = ProbeResult(AppTarget.parse(target), interface, rss_mib * MIB)
    return compute_plan(
        detect(APPS),
        on or machine(),
        Overrides(target=target, state_dir="/run/test", **overrides),
        probe,
    )


def why(plan: ServerPlan, name: str) -> str:
    return next(s.why for s in plan.settings if s.name == name)


def test_sync_handlers_waiting_on_io_get_gthread_with_many_threads() -> None:
    plan = plan_for()
    assert plan["worker_class"] == THREAD_WORKER
    assert plan["threads"] == 32
    assert "/wait (flaskapp.py:" in why(plan, "threads")


def test_workers_follow_the_usable_cpus() -> None:
    assert plan_for(on=machine(cpus=4))["workers"] == 5
    assert plan_for(on=machine(cpus=1))["workers"] == 2, "never fewer than 2"


def test_workers_are_capped_by_memory_with_the_measured_rss() -> None:
    plan = plan_for(on=machine(cpus=8, memory_mib=512), rss_mib=200)
    assert plan["workers"] == 2
    assert "capped by memory" in why(plan, "workers")
    assert "200 MiB per worker (measured)" in why(plan, "workers")


def test_asgi_apps_get_gunicorns_asgi_worker_and_no_threads() -> None:
    plan = plan_for("asgiapp:app", interface="asgi")
    assert plan["worker_class"] == "asgi"
    assert plan["workers"] == 2
    with pytest.raises(KeyError):
        plan["threads"]


def test_timeouts_are_consistent() -> None:
    plan = plan_for()
    assert plan["graceful_timeout"] <= plan["timeout"]
    assert plan["graceful_timeout"] < 30, "inside Kubernetes' default grace period"
    assert plan["keepalive"] < plan["graceful_timeout"]


def test_max_requests_jitter_is_wide() -> None:
    plan = plan_for(max_requests=100)
    assert (plan["max_requests"], plan["max_requests_jitter"]) == (100, 50)


def test_bind_comes_from_port_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9123")
    assert plan_for()["bind"] == ["0.0.0.0:9123"]
    assert plan_for(bind="127.0.0.1:7000")["bind"] == ["127.0.0.1:7000"]
    monkeypatch.setenv("PORT", "http")
    with pytest.raises(UsageError):
        plan_for()


def test_a_bad_bind_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="bad --bind"):
        plan_for(bind="localhost")


def test_forwarded_headers_are_trusted_only_from_the_given_proxies() -> None:
    assert plan_for()["forwarded_allow_ips"] == "127.0.0.1,::1"
    behind = plan_for(proxies=("10.0.0.5", "10.0.0.6"))
    assert behind["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"
    assert behind["keepalive"] > 60, "longer than the proxy's idle timeout"


def test_runtime_files_live_in_the_state_dir() -> None:
    plan = plan_for()
    assert plan["control_socket"] == "/run/test/gunicorn.ctl"
    assert plan["pidfile"] == "/run/test/server.pid"
    assert plan["worker_tmp_dir"] == "/dev/shm"
    assert plan["preload_app"] is False


def test_the_gunicorn_conf_sets_what_the_plan_says() -> None:
    plan = plan_for()
    namespace: dict = {}
    exec(compile(plan.to_gunicorn_conf(), "gunicorn.conf.py", "exec"), namespace)
    for setting in plan.settings:
        assert namespace[setting.name] == setting.value, setting.name
    assert callable(namespace["child_exit"]) and callable(namespace["post_worker_init"])
    assert namespace["logconfig_dict"]["loggers"]["gunicorn.access"]["level"] == "CRITICAL"


def test_no_app_found_says_so(tmp_path: Path) -> None:
    with pytest.raises(AppNotFoundError, match="no WSGI or ASGI app found"):
        compute_plan(detect(tmp_path), machine(), Overrides())


def test_a_granian_plan_has_only_what_granian_can_do() -> None:
    plan = plan_for(server="granian")
    assert {s.name for s in plan.settings} == {
        "wsgi_app",
        "workers",
        "blocking_threads",
        "runtime_threads",
        "graceful_timeout",
        "bind",
        "chdir",
        "pidfile",
        "loglevel",
        "accesslog",
    }
    assert plan["workers"] == 2, "one per CPU: Granian's I/O is outside the GIL"
    with pytest.raises(UsageError, match=r"gunicorn\.conf\.py"):
        plan.to_gunicorn_conf()


def test_state_dirs_of_servers_no_longer_running_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prodready.serve.runtimedir import sweep_stale_state_dirs

    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    dead = tmp_path / f"prodready-{_exited_pid()}"
    live = tmp_path / f"prodready-{os.getpid()}"
    named = tmp_path / "prodready-app-app"
    for directory in (dead, live, named):
        (directory / "metrics").mkdir(parents=True)

    sweep_stale_state_dirs()

    assert not dead.exists()
    assert live.exists() and named.exists()


def _exited_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_granian_blocking_threads_follow_the_app_and_stay_within_its_bound_for_cpu_work(
    tmp_path: Path,
) -> None:
    waiting = plan_for(server="granian", on=machine(cpus=1))
    assert waiting["blocking_threads"] == 32
    assert "backpressure" not in {s.name for s in waiting.settings}
    assert "Granian's rule of thumb for CPU-bound code (2 x CPUs + 1 = 3)" in why(
        waiting, "blocking_threads"
    )
    assert waiting["runtime_threads"] == 1
    (tmp_path / "light.py").write_text(
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.get('/ping')\ndef ping():\n    return 'ok'\n"
    )
    cpu_only = compute_plan(
        detect(tmp_path),
        machine(cpus=1),
        Overrides(server="granian", state_dir="/run/test"),
        ProbeResult(AppTarget.parse("light:app"), "wsgi", 50 * MIB),
    )
    assert cpu_only["blocking_threads"] == 3, "2 x 1 CPU + 1: Granian's bound, not 4"
    asgi = plan_for("asgiapp:app", interface="asgi", server="granian")
    assert asgi["runtime_threads"] == 1
    with pytest.raises(KeyError):
        asgi["blocking_threads"]


# --- the project's own Gunicorn configuration ---------------------------------------------------


def project_plan(tmp_path: Path, conf: str, environ: dict[str, str] | None = None, **overrides):
    (tmp_path / "app.py").write_text(
        "import time\nfrom flask import Flask\napp = Flask(__name__)\n\n"
        "@app.get('/import')\ndef card_import():\n    time.sleep(60)\n    return 'ok'\n"
    )
    (tmp_path / "gunicorn.conf.py").write_text(conf)
    return compute_plan(
        detect(tmp_path),
        machine(),
        Overrides(target="app:app", state_dir="/run/test", **overrides),
        ProbeResult(AppTarget.parse("app:app"), "wsgi", 50 * MIB),
        environ=environ or {},
    )


def source(plan: ServerPlan, name: str) -> str:
    return next(s.source for s in plan.settings if s.name == name)


def test_a_value_the_project_sets_wins_over_the_computed_one(tmp_path: Path) -> None:
    plan = project_plan(
        tmp_path, "# card imports can take a while\ntimeout = 120\nlimit_request_line = 8190\n"
    )
    assert plan["timeout"] == 120 and source(plan, "timeout") == "gunicorn.conf.py:2"
    assert plan["limit_request_line"] == 8190, "settings the plan does not compute pass through"
    assert source(plan, "graceful_timeout") == "computed"
    assert plan.warnings == ()
    assert "timeout             = 120  [gunicorn.conf.py:2]" in plan.explain()


def test_gunicorn_cmd_args_win_over_the_file_and_flags_over_both(tmp_path: Path) -> None:
    environ = {"GUNICORN_CMD_ARGS": "--timeout 90 --max-requests 500"}
    plan = project_plan(tmp_path, "timeout = 120\nmax_requests = 400\n", environ, max_requests=300)
    assert plan["timeout"] == 90 and source(plan, "timeout") == "GUNICORN_CMD_ARGS"
    assert plan["max_requests"] == 300 and source(plan, "max_requests") == "--max-requests"
    flags = project_plan(tmp_path, "timeout = 120\n", timeout=45, graceful_timeout=20,
                         log_level="warning")  # fmt: skip
    assert (flags["timeout"], flags["graceful_timeout"], flags["loglevel"]) == (45, 20, "warning")
    assert source(flags, "timeout") == "--timeout"


@pytest.mark.parametrize(
    ("conf", "name", "reason"),
    [
        ("timeout = 10\n", "timeout", "below graceful_timeout (25 s)"),
        ("workers = 1\n", "workers", "a recycle or a reload leaves none serving"),
        ("max_requests = 300\nmax_requests_jitter = 0\n", "max_requests_jitter", "together"),
        ("preload_app = True\n", "preload_app", "new code"),
        ("forwarded_allow_ips = '*'\n", "forwarded_allow_ips", "any client"),
        ("worker_class = 'sync'\n", "worker_class", "one request at a time"),
    ],
)
def test_a_dangerous_project_value_is_kept_with_a_warning_or_overridden(
    tmp_path: Path, conf: str, name: str, reason: str
) -> None:
    kept = project_plan(tmp_path, conf)
    assert source(kept, name) == "gunicorn.conf.py:" + str(conf.count("\n"))
    assert len(kept.warnings) == 1 and reason in kept.warnings[0], kept.warnings
    assert "--override" in kept.warnings[0]
    overridden = project_plan(tmp_path, conf, override=True)
    assert source(overridden, name) == "computed"
    assert overridden[name] != kept[name]
    assert "overridden" in why(overridden, name)


def test_the_projects_hooks_and_expressions_are_named_not_dropped_silently(tmp_path: Path) -> None:
    plan = project_plan(
        tmp_path,
        "import multiprocessing\n\nworkers = multiprocessing.cpu_count() * 2 + 1\n\n"
        "def post_fork(server, worker):\n    server.log.info('forked')\n\n"
        "def _helper():\n    pass\n",
    )
    assert source(plan, "workers") == "computed"
    assert plan.warnings == (
        "workers = multiprocessing.cpu_count() * 2 + 1 (gunicorn.conf.py:3) is not applied: an "
        "expression is only known by running the file; write the value, or give it as a flag",
        "hook post_fork in gunicorn.conf.py is not run: prodready serve's config has its own "
        "hooks; move the work into the app (or a lazy service of prodready.runtime)",
    )
