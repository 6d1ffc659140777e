"""Requests through nginx for the whole of a deploy, on keep-alive connections (the kind a
reload of nginx would close): every failure and every non-2xx counted."""

from __future__ import annotations

import http.client
import threading
from collections import Counter


class Traffic:
    def __init__(self, port: int, clients: int = 3, pause_s: float = 0.01) -> None:
        self.pause_s = pause_s
        self.port = port
        self.results: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def _client(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self._stop.is_set():
            try:
                connection.request("GET", "/version")
                response = connection.getresponse()
                body = response.read()
                outcome = "ok" if response.status == 200 else f"status {response.status}"
                version = body.decode(errors="replace")
            except (OSError, http.client.HTTPException) as error:
                outcome, version = f"error {type(error).__name__}", ""
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            with self._lock:
                self.results[outcome] += 1
                self.versions[version] += 1
            self._stop.wait(self.pause_s)  # steady traffic that leaves the 2 CPUs to the servers
        connection.close()

    @property
    def failed(self) -> dict[str, int]:
        return {k: v for k, v in self.results.items() if k != "ok"}
