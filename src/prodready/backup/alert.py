"""Telling someone a scheduled backup failed: a timer or a container loop runs `prodready backup`
unattended, and an exit code that nobody reads is how months of bad backups go unnoticed.

An `http(s)://` URL gets a JSON POST (the monitor's webhook format: `event`, `title`, `body`);
any other URL is an apprise channel (Slack, e-mail, ntfy, Telegram, ...). Each channel gets three
tries; a channel that still fails is reported on stderr and never hides the backup's own error.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from prodready.errors import InputError

TRIES = 3
TIMEOUT_S = 10.0
BACKOFF_S = 1.0


def check_alert_urls(urls: Sequence[str]) -> None:
    """Refuses an alert URL that could never be sent, before any backup work starts."""
    for url in urls:
        parts = urlsplit(url)
        if not parts.scheme or (parts.scheme in ("http", "https") and not parts.hostname):
            raise InputError(
                f"--alert {url!r} is not a webhook or apprise URL",
                "e.g. --alert https://hooks.example.com/backup or --alert ntfy://topic",
            )


def send_alert(urls: Sequence[str], title: str, body: str) -> list[str]:
    """Sends to every channel; returns one line per channel that could not be reached."""
    failures = []
    for url in urls:
        error = _send_with_retries(url, title, body)
        if error is not None:
            failures.append(f"{_redacted(url)}: {error}")
    return failures


def failure_title(app: str) -> str:
    return f"backup of {app} failed on {socket.gethostname()}"


def _send_with_retries(url: str, title: str, body: str) -> str | None:
    error: str | None = None
    for attempt in range(TRIES):
        if attempt:
            time.sleep(BACKOFF_S * 2 ** (attempt - 1))
        error = _send(url, title, body)
        if error is None:
            return None
    return error


def _send(url: str, title: str, body: str) -> str | None:
    if urlsplit(url).scheme in ("http", "https"):
        return _post_webhook(url, title, body)
    import apprise  # only when a channel needs it: apprise takes ~0.3 s to import

    sender = apprise.Apprise()
    if not sender.add(url):
        return "apprise does not understand this URL"
    return None if sender.notify(body=body, title=title) else "apprise could not deliver it"


def _post_webhook(url: str, title: str, body: str) -> str | None:
    import urllib.error  # only on failure: urllib.request and ssl take ~20 ms of every backup
    import urllib.request

    payload = {"event": "backup failed", "title": title, "body": body}
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "User-Agent": "prodready-backup"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"cannot reach it ({reason})"
    return None if status < 300 else f"it answered HTTP {status}"


def _redacted(url: str) -> str:
    """Webhook and apprise URLs carry tokens in their path or user part: the scheme and host
    are enough to say which channel failed."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '…'}/…"
