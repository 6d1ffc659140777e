"""Delivers queued notifications: apprise channels (Slack, e-mail, ntfy, Telegram, ... 100+)
and plain JSON webhooks. A failed send is retried with exponential backoff and, after the last
try, recorded as `failed` ("notification failed"); it never raises into the monitor."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prodready.monitor.config import Alerting
from prodready.monitor.store import Notification, Store

if TYPE_CHECKING:
    import aiohttp

WEBHOOK_TIMEOUT = 10.0


class Deliverer:
    def __init__(
        self,
        store: Store,
        alerting: Alerting,
        session: aiohttp.ClientSession,
        on_event: Callable[[dict[str, Any]], None] = lambda event: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.alerting = alerting
        self.session = session
        self.on_event = on_event
        self.clock = clock
        self._sending: set[int] = set()

    async def deliver_due(self) -> None:
        """Sends every notification due now, concurrently, and records each outcome."""
        due = [n for n in self.store.due_notifications(self.clock()) if n.id not in self._sending]
        if due:
            await asyncio.gather(*(self._attempt(n) for n in due))

    async def _attempt(self, notification: Notification) -> None:
        self._sending.add(notification.id)
        try:
            error = await self._send(notification)
        finally:
            self._sending.discard(notification.id)
        now = self.clock()
        if error is None:
            self.store.mark_sent(notification.id, now)
            self.on_event(_event("notified", notification))
            return
        attempts = notification.attempts + 1
        if attempts >= self.alerting.retries:
            self.store.mark_attempt_failed(notification.id, error, None)
            self.on_event({**_event("notification failed", notification), "error": error})
            return
        retry_at = now + self.alerting.retry_backoff * 2 ** (attempts - 1)
        self.store.mark_attempt_failed(notification.id, error, retry_at)

    async def _send(self, notification: Notification) -> str | None:
        """None when sent, else why not."""
        kind, _, target = notification.channel.partition(":")
        try:
            if kind == "webhook":
                return await self._webhook(target, notification)
            if kind == "apprise":
                return await _apprise(target, notification)
            sys.stderr.write(f"alert: {notification.title}\n{notification.body}\n")
            return None
        except Exception as error:  # a channel's failure is recorded, never raised
            from prodready.monitor.checks import describe

            return describe(error)

    async def _webhook(self, url: str, notification: Notification) -> str | None:
        import aiohttp

        async with self.session.post(
            url,
            json={**notification.payload, "body": notification.body},
            timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT),
        ) as response:
            if response.status >= 300:
                return f"webhook answered HTTP {response.status}"
        return None


async def _apprise(url: str, notification: Notification) -> str | None:
    import apprise

    sender = apprise.Apprise()
    if not sender.add(url):
        return "apprise does not understand this URL"
    # apprise's e-mail and most plugins are blocking; a thread keeps the probes on time.
    sent = await asyncio.to_thread(
        sender.notify, body=notification.body or notification.title, title=notification.title
    )
    return None if sent else "apprise could not deliver it (see its log)"


def _event(name: str, notification: Notification) -> dict[str, Any]:
    return {
        "event": name,
        "kind": notification.kind,
        "channel": notification.channel,
        "title": notification.title,
    }
