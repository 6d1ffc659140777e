"""Gunicorn settings, from a gunicorn.conf.py (read statically) or from a command line."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from prodready.project.limits import TOO_DEEP
from prodready.project.model import FileProblem

ARG_SETTINGS = {
    "-w": "workers",
    "--workers": "workers",
    "-b": "bind",
    "--bind": "bind",
    "-t": "timeout",
    "--timeout": "timeout",
    "-k": "worker_class",
    "--worker-class": "worker_class",
    "--threads": "threads",
    "--graceful-timeout": "graceful_timeout",
    "--keep-alive": "keepalive",
    "--max-requests": "max_requests",
    "--max-requests-jitter": "max_requests_jitter",
    "--reload": "reload",
    "--preload": "preload_app",
    "--forwarded-allow-ips": "forwarded_allow_ips",
    "--log-level": "loglevel",
    "--worker-tmp-dir": "worker_tmp_dir",
    "-c": "config",
    "--config": "config",
    "--access-logfile": "accesslog",
    "--error-logfile": "errorlog",
    "--chdir": "chdir",
    "--daemon": "daemon",
    "-D": "daemon",
}
FLAGS_WITHOUT_VALUE = {"--reload", "--preload", "--daemon", "-D"}


@dataclass(frozen=True)
class Setting:
    name: str
    value: Any  # literal value, or None when it is an expression
    source: str  # the expression as written
    line: int


@dataclass
class GunicornConfig:
    rel: str
    settings: dict[str, Setting] = field(default_factory=dict)
    hooks: set[str] = field(default_factory=set)
    problems: list[FileProblem] = field(default_factory=list)
    from_command_line: bool = False
    app: str | None = None
    """The APP argument of a gunicorn command line."""

    def get(self, name: str) -> Setting | None:
        return self.settings.get(name)

    def value(self, name: str, default: Any = None) -> Any:
        setting = self.settings.get(name)
        return default if setting is None or setting.value is None else setting.value


def parse(rel: str, text: str) -> GunicornConfig:
    config = GunicornConfig(rel)
    try:
        tree = ast.parse(text, filename=rel)
        _read_settings(config, tree)
    except (SyntaxError, ValueError) as error:
        line = getattr(error, "lineno", None) or 1
        config.problems.append(FileProblem(rel, line, f"Python syntax error: {error}"))
    except (RecursionError, MemoryError):  # an expression nested thousands deep
        config.settings.clear()
        config.hooks.clear()
        config.problems.append(FileProblem(rel, 1, TOO_DEEP))
    return config


def _read_settings(config: GunicornConfig, tree: ast.Module) -> None:
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            value = node.value
            if value is None:
                continue
            for target in targets:
                if isinstance(target, ast.Name):
                    config.settings[target.id] = Setting(
                        target.id, _literal(value), ast.unparse(value), node.lineno
                    )
        elif isinstance(node, ast.FunctionDef):
            config.hooks.add(node.name)


def from_argv(rel: str, argv: list[str], line: int) -> GunicornConfig:
    """Settings given on a `gunicorn ...` command line (after the program name)."""
    config = GunicornConfig(rel, from_command_line=True)
    index = 0
    while index < len(argv):
        word = argv[index]
        name, value = word, None
        if word.startswith("--") and "=" in word:
            name, value = word.split("=", 1)
        elif (
            len(word) > 2
            and not word.startswith("--")
            and word[:2] in ARG_SETTINGS
            and word[:2] not in FLAGS_WITHOUT_VALUE
        ):  # a short option with its value attached: -w4, -w${WORKERS:-4}
            name, value = word[:2], word[2:]
        setting = ARG_SETTINGS.get(name)
        if setting is None:
            if not word.startswith("-") and config.app is None:
                config.app = word
            index += 1
            continue
        if name in FLAGS_WITHOUT_VALUE:
            value = "True"
        elif value is None:
            index += 1
            value = argv[index] if index < len(argv) else ""
        config.settings[setting] = Setting(setting, _coerce(value), value, line)
        index += 1
    return config


def _literal(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _coerce(value: str) -> Any:
    if value == "True":
        return True
    try:
        return int(value)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return value
