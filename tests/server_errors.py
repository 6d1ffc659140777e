"""The error-log assertion shared by every fixture that starts a real server.

A server that answers every request correctly can still log an error on each one (a hook that
raises, a worker that crashes and respawns). Such an error does not fail a request, so tests
that only look at responses pass; the fixtures that start servers check their logs when the
test ends. A test that provokes errors on purpose says which with
`@pytest.mark.server_errors(r"regex", ...)`; any other error line fails it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

import pytest

ERROR_LEVELS = frozenset({"error", "critical", "exception", "fatal"})
TEXT_ERROR = re.compile(
    r"Traceback \(most recent call last\)|\[(?:ERROR|CRITICAL)\]|"
    r"\b(?:ERROR|CRITICAL)\b:|Exception in (?:worker|post_request|pre_request|ASGI)"
)
"""Plain-text error lines of Gunicorn (`[ERROR]`), uvicorn (`ERROR:`), Granian and Python."""


def error_lines(text: str) -> list[str]:
    """The lines of a server log that report an error: JSON events at error level or above
    (access lines excepted: a 5xx is logged at error as users filter on it, and tests provoke
    them), and plain-text error lines."""
    found = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("{"):
            try:
                event = json.loads(stripped)
            except json.JSONDecodeError:
                event = None
            if isinstance(event, dict):
                if event.get("event") == "request" and "status" in event:
                    continue  # an access line: a 5xx answer a test may ask for, not a fault
                if str(event.get("level", "")).lower() in ERROR_LEVELS or event.get("exception"):
                    found.append(stripped)
                continue
        if TEXT_ERROR.search(stripped):
            found.append(stripped)
    return found


def unexpected_errors(text: str, expected: Iterable[str] = ()) -> list[str]:
    """Error lines not matched by any of the `expected` regular expressions."""
    patterns = [re.compile(pattern) for pattern in expected]
    return [line for line in error_lines(text) if not any(p.search(line) for p in patterns)]


def expected_patterns(request: pytest.FixtureRequest) -> list[str]:
    """The regexes a test declared with `@pytest.mark.server_errors(...)`."""
    return [
        pattern for marker in request.node.iter_markers("server_errors") for pattern in marker.args
    ]


def assert_clean_server_log(text: str, where: str, request: pytest.FixtureRequest) -> None:
    """Fails the test when the log has an error line the test did not declare."""
    unexpected = unexpected_errors(text, expected_patterns(request))
    if unexpected:
        shown = "\n".join(unexpected[:10])
        pytest.fail(
            f"{where} logged {len(unexpected)} unexpected error line(s) "
            f"(declare deliberate ones with @pytest.mark.server_errors):\n{shown}",
            pytrace=False,
        )
