"""A small HTTP/1.1 server for the load tests, run as its own process on 127.0.0.1.

It binds port 0 (on 127.0.0.1, or --host ::1) and prints the port on its first stdout line. Paths:

    /              200 "ok"
    /status/<n>    responds with status n
    /close         200 with Connection: close
    /reset         aborts the connection (RST) without answering
    /hang          never answers
    /__stats       JSON: requests per path, methods, bodies seen (not counted itself)

Options: --pause-after N --pause-s S stalls every answer for S seconds once N requests came
in (a stalled server); --limit-rps R answers 503 beyond R requests per second (a server with a
capacity, over any sliding second); --cert/--key serve TLS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import ssl
import sys
import time
from collections import Counter, deque


class Server:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.paths: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        self.bodies: Counter[str] = Counter()
        self.count = 0
        self.paused_until = 0.0
        # Arrival times of the requests served in the last second (for --limit-rps).
        self.recent: deque[float] = deque()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if path == "/__stats":
                    stats = {
                        "count": self.count,
                        "paths": self.paths,
                        "methods": self.methods,
                        "bodies": self.bodies,
                    }
                    self.respond(writer, 200, json.dumps(stats).encode())
                    continue
                if not await self.serve(method, path, body, headers, writer):
                    return
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def serve(
        self,
        method: str,
        path: str,
        body: bytes,
        headers: dict[str, str],
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answers one request; False when the connection must end."""
        self.count += 1
        self.paths[path] += 1
        self.methods[method] += 1
        if body:
            self.bodies[body.decode()] += 1
        args = self.args
        head = method == "HEAD"
        now = time.monotonic()
        if args.pause_after and self.count == args.pause_after:
            self.paused_until = now + args.pause_s
        if self.paused_until > now:
            await asyncio.sleep(self.paused_until - now)
        if path == "/hang":
            await asyncio.sleep(3600)
        if path == "/reset":
            writer.transport.abort()
            return False
        if path == "/close":
            self.respond(writer, 200, b"ok", close=True, head=head)
            return False
        if path.startswith("/status/"):
            self.respond(writer, int(path.rsplit("/", 1)[1]), b"status", head=head)
            return True
        if args.limit_rps:
            while self.recent and now - self.recent[0] >= 1.0:
                self.recent.popleft()
            if len(self.recent) >= args.limit_rps:
                self.respond(writer, 503, b"busy", head=head)
                return True
            self.recent.append(now)
        self.respond(writer, 200, b"ok", head=head)
        return True

    @staticmethod
    def respond(
        writer: asyncio.StreamWriter,
        status: int,
        body: bytes,
        close: bool = False,
        head: bool = False,
    ) -> None:
        """Answers with a Content-Length; HEAD gets the headers only, as HTTP says."""
        connection = "close" if close else "keep-alive"
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
            f"Connection: {connection}\r\n\r\n".encode()
            + (b"" if head else body)
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pause-after", type=int, default=0)
    parser.add_argument("--pause-s", type=float, default=2.0)
    parser.add_argument("--limit-rps", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    server = Server(args)
    listener = await asyncio.start_server(server.handle, args.host, 0, ssl=context, backlog=1024)
    print(listener.sockets[0].getsockname()[1], flush=True)
    async with listener:
        await listener.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
