"""The monitor's configuration: one URL with flags, or a TOML / YAML file of many endpoints.

A bad value raises `ConfigError` naming the key (`endpoints[2].max_latency`) and, where the
file shows it, the line; the CLI prints it as one line and exits 2."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prodready.errors import InputError
from prodready.monitor.configlines import KeyLines
from prodready.monitor.durations import parse_duration
from prodready.monitor.storedb import store_location

KINDS = ("http", "tcp", "tls", "postgres", "redis", "host", "metrics")
_SCHEME_KINDS = {
    "http": "http",
    "https": "http",
    "tcp": "tcp",
    "tls": "tls",
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "rediss": "redis",
    "host": "host",
    "metrics+http": "metrics",
    "metrics+https": "metrics",
}


_FLAGS = {"apprise": "--notify", "webhooks": "--webhook"}
"""Config keys whose command-line flag has another name."""


class ConfigError(InputError):
    """A config value that cannot be used, with the key (and line) it came from."""


@dataclass(frozen=True)
class Endpoint:
    name: str
    url: str
    kind: str
    interval: float
    timeout: float
    expect_status: tuple[int, ...] = (200,)
    max_latency: float | None = None
    body_regex: str | None = None
    json_path: str | None = None
    json_equals: Any = None
    health_json: bool = True
    """An `application/health+json` body fails the check on `fail` (and warns on `warn`)."""
    min_cert_days: float | None = None
    max_cpu_percent: float | None = None
    max_memory_percent: float | None = None
    max_disk_percent: float | None = None
    disk_path: str = "/"
    max_load: float | None = None
    max_error_ratio: float | None = None
    """`metrics+http(s)://`: 5xx answers over all answers between scrapes. [0.05]"""
    max_p95: float | None = None
    """`metrics+http(s)://`: p95 latency (seconds) between scrapes."""
    slo: float | None = None
    """Availability objective in percent (99.9): burn-rate alerts on its error budget."""


@dataclass(frozen=True)
class Retention:
    raw: float = 48 * 3600
    minute: float = 30 * 86400
    hour: float = 365 * 86400


@dataclass(frozen=True)
class Maintenance:
    start: float
    end: float
    endpoints: tuple[str, ...] = ()
    """Names (fnmatch patterns); empty means every endpoint."""


@dataclass(frozen=True)
class Alerting:
    group_wait: float = 3.0
    """A notification waits until no new alert joined its group for this long..."""
    group_max_wait: float = 30.0
    """...but never longer than this after the first one."""
    reminder_interval: float = 4 * 3600
    apprise: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    retries: int = 4
    retry_backoff: float = 1.0


@dataclass(frozen=True)
class MonitorConfig:
    endpoints: tuple[Endpoint, ...]
    store: Path | str
    """A SQLite file, or a postgresql:// URL."""
    recheck_delay: float = 1.0
    """A failed probe is re-checked at once and again after this delay before `down`."""
    recovery_successes: int = 2
    rechecks: int = 2
    """Re-checks of a failed probe (the first at once, the others after `recheck_delay`);
    0 with `failure_threshold = 3` behaves as Gatus's defaults."""
    failure_threshold: int = 1
    alerting: Alerting = field(default_factory=Alerting)
    retention: Retention = field(default_factory=Retention)
    maintenance: tuple[Maintenance, ...] = ()


DEFAULT_STORE = Path.home() / ".local" / "share" / "prodready" / "monitor.db"

_MONITOR_KEYS = {
    "interval",
    "timeout",
    "recheck_delay",
    "recovery_successes",
    "rechecks",
    "failure_threshold",
    "store",
}
_ENDPOINT_KEYS = {
    "name",
    "url",
    "interval",
    "timeout",
    "expect_status",
    "max_latency",
    "body_regex",
    "json_path",
    "json_equals",
    "health_json",
    "min_cert_days",
    "max_cpu_percent",
    "max_memory_percent",
    "max_disk_percent",
    "disk_path",
    "max_load",
    "slo",
    "max_error_ratio",
    "max_p95",
    "conditions",
}
_ALERTING_KEYS = {
    "group_wait",
    "group_max_wait",
    "reminder_interval",
    "apprise",
    "webhooks",
    "retries",
    "retry_backoff",
}
_TOP_KEYS = {"monitor", "endpoints", "alerting", "retention", "maintenance"}


def kind_of(url: str) -> str | None:
    """The check kind a URL asks for, from its scheme; None when the scheme is unknown."""
    return _SCHEME_KINDS.get(urlsplit(url).scheme.lower())


def load_config(path: Path, store: Path | str | None = None) -> MonitorConfig:
    """Reads a TOML (`.toml`) or YAML (`.yaml`, `.yml`) monitor config."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    data = _parse(path, text)
    return _Reader(path, text).config(data, store)


def single_endpoint_config(
    url: str,
    store: Path | str | None,
    recheck_delay: str | None = None,
    apprise: list[str] | None = None,
    webhooks: list[str] | None = None,
    **options: Any,
) -> MonitorConfig:
    """The config of `prodready monitor URL --flags`: one endpoint, no channels but the flags'."""
    raw: dict[str, Any] = {
        "endpoints": [{"url": url, **{k: v for k, v in options.items() if v is not None}}],
        "alerting": {"apprise": apprise or [], "webhooks": webhooks or []},
    }
    if recheck_delay is not None:
        raw["monitor"] = {"recheck_delay": recheck_delay}
    return _Reader(None, "").config(raw, store)


def _parse(path: Path, text: str) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            message = str(error)
            at = re.search(r"\(at line (\d+), column (\d+)\)", message)
            if at:
                message = f"{at.group(1)}: not valid TOML: {message[: at.start()].strip()}"
                message += f" (column {at.group(2)})"
            else:
                message = f" not valid TOML: {message}"
            raise ConfigError(f"{path}:{message}", "fix the syntax there") from None
    if suffix in (".yaml", ".yml"):
        import yaml

        from prodready.safeyaml import load

        try:
            return load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"{mark.line + 1}" if mark is not None else ""
            problem = getattr(error, "problem", None) or str(error)
            raise ConfigError(
                f"{path}:{where}: not valid YAML: {problem}", "fix the syntax there"
            ) from None
    raise ConfigError(
        f"{path}: unknown config format {suffix or '(no suffix)'}",
        "name it monitor.toml or monitor.yaml",
    )


class _Reader:
    """Turns parsed TOML/YAML into a MonitorConfig; every error names its key and line."""

    def __init__(self, path: Path | None, text: str) -> None:
        self.path = path
        self.lines = KeyLines(text)

    def fail(self, key: str, message: str, hint: str | None = None) -> ConfigError:
        if self.path is None:  # from command-line flags: name the flag
            name = key.rpartition(".")[2]
            flag = _FLAGS.get(name.partition("[")[0], "--" + name.replace("_", "-"))
            key = "URL" if name == "url" else flag
        line = self.lines.line_of(key)
        where = (
            f"{self.path}:{line}: " if self.path and line else f"{self.path}: " if self.path else ""
        )
        return ConfigError(f"{where}{key}: {message}", hint)

    def table(self, data: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise self.fail(key, "must be a table of settings")
        for name in data:
            if name not in allowed:
                raise self.fail(
                    f"{key}.{name}" if key else str(name),
                    "unknown key",
                    f"known keys: {', '.join(sorted(allowed))}",
                )
        return data

    def duration(self, data: dict[str, Any], key: str, name: str, default: float) -> float:
        if name not in data:
            return default
        try:
            return parse_duration(data[name])
        except ValueError as error:
            raise self.fail(f"{key}.{name}" if key else name, str(error)) from None

    def number(self, data: dict[str, Any], key: str, name: str, minimum: float = 0) -> float | None:
        if name not in data:
            return None
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
            raise self.fail(f"{key}.{name}", f"{value!r} is not a number >= {minimum:g}")
        return float(value)

    def count(self, monitor: dict[str, Any], name: str, default: int, minimum: int) -> int:
        value = monitor.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 100:
            raise self.fail(f"monitor.{name}", f"{value!r} is not an integer from {minimum} to 100")
        return value

    def text(self, data: dict[str, Any], key: str, name: str) -> str | None:
        if name not in data:
            return None
        if not isinstance(data[name], str) or not data[name]:
            raise self.fail(f"{key}.{name}", f"{data[name]!r} is not a non-empty string")
        return data[name]

    def strings(self, data: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
        value = data.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(f"{key}.{name}", "must be a list of strings")
        return tuple(value)

    def config(self, data: Any, store: Path | str | None) -> MonitorConfig:
        if not isinstance(data, dict):
            raise self.fail("", "the config must be a table with an `endpoints` list")
        self.table(data, "", _TOP_KEYS)
        monitor = self.table(data.get("monitor"), "monitor", _MONITOR_KEYS)
        interval = self.duration(monitor, "monitor", "interval", 60.0)
        timeout = self.duration(monitor, "monitor", "timeout", 10.0)
        if interval < 0.1:
            raise self.fail("monitor.interval", "must be at least 100ms")
        endpoints = self.endpoints(data.get("endpoints"), interval, timeout)
        successes = self.count(monitor, "recovery_successes", 2, 1)
        if store is not None:
            store_path = store_location(store)
        else:
            store_path = store_location(self.text(monitor, "monitor", "store") or DEFAULT_STORE)
            if self.path and isinstance(store_path, Path) and not store_path.is_absolute():
                store_path = self.path.parent / store_path
        return MonitorConfig(
            endpoints=endpoints,
            store=store_path,
            recheck_delay=self.duration(monitor, "monitor", "recheck_delay", 1.0),
            recovery_successes=successes,
            rechecks=self.count(monitor, "rechecks", 2, 0),
            failure_threshold=self.count(monitor, "failure_threshold", 1, 1),
            alerting=self.alerting(data.get("alerting")),
            retention=self.retention(data.get("retention")),
            maintenance=self.maintenance(data.get("maintenance")),
        )

    def endpoints(self, data: Any, interval: float, timeout: float) -> tuple[Endpoint, ...]:
        if not isinstance(data, list) or not data:
            raise self.fail("endpoints", "must be a non-empty list of endpoints")
        made: list[Endpoint] = []
        names: set[str] = set()
        for index, item in enumerate(data):
            key = f"endpoints[{index}]"
            entry = self.with_conditions(self.table(item, key, _ENDPOINT_KEYS), key)
            url = self.text(entry, key, "url")
            if url is None:
                raise self.fail(key, "has no url", "every endpoint needs `url`")
            kind = kind_of(url)
            if kind is None:
                raise self.fail(
                    f"{key}.url",
                    f"{url!r}: unknown scheme",
                    "use http(s)://, tcp://host:port, tls://host:port, postgresql://, "
                    "redis://, host:// or metrics+http(s)://",
                )
            name = self.text(entry, key, "name") or _default_name(url)
            if name in names:
                raise self.fail(f"{key}.name", f"{name!r} is used twice", "names must be unique")
            names.add(name)
            made.append(self.endpoint(entry, key, name, url, kind, interval, timeout))
        return tuple(made)

    def with_conditions(self, entry: dict[str, Any], key: str) -> dict[str, Any]:
        """An entry with Gatus `conditions` read into our keys (a key set both ways is an
        error: which one would win is not obvious)."""
        if "conditions" not in entry:
            return entry
        conditions = entry["conditions"]
        if not isinstance(conditions, list):
            raise self.fail(f"{key}.conditions", "must be a list of Gatus conditions")
        from prodready.monitor.gatus import translate

        keys, refused = translate(conditions)
        if refused:
            index, why = refused[0]
            raise self.fail(
                f"{key}.conditions[{index}]",
                why,
                "supported: [STATUS], [RESPONSE_TIME], [BODY], [BODY].path, "
                "[CERTIFICATE_EXPIRATION], [CONNECTED]; or use prodready's keys",
            )
        both = sorted(set(keys) & set(entry))
        if both:
            raise self.fail(f"{key}.{both[0]}", "is set by both a key and a condition")
        merged = {k: v for k, v in entry.items() if k != "conditions"}
        return {**merged, **keys}

    def endpoint(
        self,
        entry: dict[str, Any],
        key: str,
        name: str,
        url: str,
        kind: str,
        interval: float,
        timeout: float,
    ) -> Endpoint:
        statuses = entry.get("expect_status", [200])
        if isinstance(statuses, int) and not isinstance(statuses, bool):
            statuses = [statuses]
        if not isinstance(statuses, list) or not all(
            isinstance(s, int) and 100 <= s <= 599 for s in statuses
        ):
            raise self.fail(f"{key}.expect_status", "must be HTTP status codes (100-599)")
        regex = self.text(entry, key, "body_regex")
        if regex is not None:
            try:
                re.compile(regex)
            except re.error as error:
                raise self.fail(f"{key}.body_regex", f"not a regular expression: {error}") from None
        json_path = self.text(entry, key, "json_path")
        if json_path is not None:
            from prodready.monitor.checks.jsonpath import compile_path

            try:
                compile_path(json_path)
            except ValueError as error:
                raise self.fail(f"{key}.json_path", str(error)) from None
        own_interval = self.duration(entry, key, "interval", interval)
        if own_interval < 0.1:
            raise self.fail(f"{key}.interval", "must be at least 100ms")
        max_latency = self.duration(entry, key, "max_latency", -1.0)
        max_p95 = self.duration(entry, key, "max_p95", -1.0)
        health = entry.get("health_json", True)
        if not isinstance(health, bool):
            raise self.fail(f"{key}.health_json", "must be true or false")
        return Endpoint(
            name=name,
            url=url,
            kind=kind,
            interval=own_interval,
            timeout=self.duration(entry, key, "timeout", min(timeout, own_interval)),
            expect_status=tuple(statuses),
            max_latency=None if max_latency < 0 else max_latency,
            body_regex=regex,
            json_path=json_path,
            json_equals=entry.get("json_equals"),
            health_json=health,
            min_cert_days=self.number(entry, key, "min_cert_days"),
            max_cpu_percent=self.number(entry, key, "max_cpu_percent"),
            max_memory_percent=self.number(entry, key, "max_memory_percent"),
            max_disk_percent=self.number(entry, key, "max_disk_percent"),
            disk_path=self.text(entry, key, "disk_path") or "/",
            max_load=self.number(entry, key, "max_load"),
            slo=self.objective(entry, key),
            max_error_ratio=self.ratio(entry, key),
            max_p95=None if max_p95 < 0 else max_p95,
        )

    def ratio(self, entry: dict[str, Any], key: str) -> float | None:
        value = self.number(entry, key, "max_error_ratio")
        if value is not None and value > 1:
            raise self.fail(f"{key}.max_error_ratio", f"{value:g} is not a fraction from 0 to 1")
        return value

    def objective(self, entry: dict[str, Any], key: str) -> float | None:
        value = self.number(entry, key, "slo")
        if value is not None and not 50 <= value < 100:
            raise self.fail(f"{key}.slo", f"{value:g} is not a percentage from 50 to 99.999")
        return value

    def alerting(self, data: Any) -> Alerting:
        table = self.table(data, "alerting", _ALERTING_KEYS)
        defaults = Alerting()
        reminder = self.duration(table, "alerting", "reminder_interval", defaults.reminder_interval)
        if reminder < 60:
            raise self.fail(
                "alerting.reminder_interval", "must be at least 1m (no reminder storms)"
            )
        retries = table.get("retries", defaults.retries)
        if isinstance(retries, bool) or not isinstance(retries, int) or not 1 <= retries <= 20:
            raise self.fail("alerting.retries", f"{retries!r} is not an integer from 1 to 20")
        return Alerting(
            group_wait=self.duration(table, "alerting", "group_wait", defaults.group_wait),
            group_max_wait=self.duration(
                table, "alerting", "group_max_wait", defaults.group_max_wait
            ),
            reminder_interval=reminder,
            apprise=self.apprise_urls(table),
            webhooks=self.webhook_urls(table),
            retries=retries,
            retry_backoff=self.duration(table, "alerting", "retry_backoff", defaults.retry_backoff),
        )

    def apprise_urls(self, table: dict[str, Any]) -> tuple[str, ...]:
        """Apprise URLs, each one apprise can parse (checked now, not at the first outage)."""
        urls = self.strings(table, "alerting", "apprise")
        if urls:
            import apprise

            for index, url in enumerate(urls):
                if not apprise.Apprise().add(url):
                    raise self.fail(
                        f"alerting.apprise[{index}]",
                        f"apprise cannot use {url!r}",
                        "see the apprise wiki for the URL of each service, e.g. "
                        "mailto://user:pass@smtp.example.com?to=ops@example.com",
                    )
        return urls

    def webhook_urls(self, table: dict[str, Any]) -> tuple[str, ...]:
        urls = self.strings(table, "alerting", "webhooks")
        for index, url in enumerate(urls):
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                raise self.fail(f"alerting.webhooks[{index}]", f"{url!r} is not an http(s) URL")
        return urls

    def retention(self, data: Any) -> Retention:
        table = self.table(data, "retention", {"raw", "minute", "hour"})
        defaults = Retention()
        return Retention(
            raw=self.duration(table, "retention", "raw", defaults.raw),
            minute=self.duration(table, "retention", "minute", defaults.minute),
            hour=self.duration(table, "retention", "hour", defaults.hour),
        )

    def maintenance(self, data: Any) -> tuple[Maintenance, ...]:
        if data is None:
            return ()
        if not isinstance(data, list):
            raise self.fail("maintenance", "must be a list of windows with start and end")
        windows = []
        for index, item in enumerate(data):
            key = f"maintenance[{index}]"
            entry = self.table(item, key, {"start", "end", "endpoints"})
            start, end = (self.instant(entry, key, name) for name in ("start", "end"))
            if end <= start:
                raise self.fail(f"{key}.end", "must be after start")
            windows.append(Maintenance(start, end, self.strings(entry, key, "endpoints")))
        return tuple(windows)

    def instant(self, entry: dict[str, Any], key: str, name: str) -> float:
        value = entry.get(name)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.timestamp()
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise self.fail(
                f"{key}.{name}",
                f"{value!r} is not a date and time with a zone",
                "write it as 2026-12-24T02:00:00Z",
            )
        return parsed.timestamp()


def _default_name(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "host":
        return "host"
    return f"{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}{parts.path}"
