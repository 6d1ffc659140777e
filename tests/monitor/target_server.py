"""A switchable HTTP target for the monitor's tests and benchmark, run as its own process.

It binds port 0 on 127.0.0.1 (aiohttp's server) and prints the port on its first stdout line.
Every path `/<name>` answers as its mode says (default `healthy`):

    healthy   200 "ok"
    down      503
    slow      200 after --slow-s seconds (default 2)
    blip      503 once, then healthy again (one failed probe between successes)
    flap      503 and 200 in turn
    health-pass / health-warn / health-fail   application/health+json documents
    json      200 {"status": "ok", "db": {"connections": [3, 4]}}

`POST /_mode?mode=M&name=a&name=b` sets the mode of those names (no name: every name seen and
the default); `GET /_hits` is JSON of the requests per name; `GET /_blips` the number of blip
answers served. `--cert` and `--key` serve HTTPS.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import ssl
import sys
from collections import Counter

from aiohttp import web

HEALTH = "application/health+json"


class Target:
    def __init__(self, slow_s: float) -> None:
        self.slow_s = slow_s
        self.default = "healthy"
        self.modes: dict[str, str] = {}
        self.hits: Counter[str] = Counter()
        self.flaps: Counter[str] = Counter()
        self.blips = 0

    async def answer(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[name] += 1
        mode = self.modes.get(name, self.default)
        if mode == "blip":
            self.modes[name] = "healthy"
            self.blips += 1
            return web.Response(status=503, text="blip")
        if mode == "flap":
            self.flaps[name] += 1
            return web.Response(status=503 if self.flaps[name] % 2 else 200, text="flap")
        if mode == "down":
            return web.Response(status=503, text="down")
        if mode == "slow":
            await asyncio.sleep(self.slow_s)
        if mode.startswith("health-"):
            status = mode.removeprefix("health-")
            return web.Response(
                status=503 if status == "fail" else 200,
                body=json.dumps({"status": status}).encode(),
                content_type=HEALTH,
            )
        if mode == "json":
            return web.json_response({"status": "ok", "db": {"connections": [3, 4]}})
        return web.Response(text="ok")

    async def set_mode(self, request: web.Request) -> web.Response:
        mode = request.query["mode"]
        names = request.query.getall("name", [])
        if not names:
            self.default = mode
            names = list(self.hits)
        for name in names:
            self.modes[name] = mode
        return web.json_response({"mode": mode, "names": len(names)})

    async def get_hits(self, request: web.Request) -> web.Response:
        return web.json_response(dict(self.hits))

    async def get_blips(self, request: web.Request) -> web.Response:
        return web.json_response(self.blips)


async def main(args: argparse.Namespace) -> None:
    target = Target(args.slow_s)
    app = web.Application()
    app.router.add_post("/_mode", target.set_mode)
    app.router.add_get("/_hits", target.get_hits)
    app.router.add_get("/_blips", target.get_blips)
    app.router.add_get("/{name}", target.answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)
    site = web.SockSite(runner, sock, backlog=2048, ssl_context=tls)
    await site.start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow-s", type=float, default=2.0)
    parser.add_argument("--cert", help="serve HTTPS with this certificate (and --key)")
    parser.add_argument("--key")
    try:
        asyncio.run(main(parser.parse_args()))
    except KeyboardInterrupt:
        sys.exit(0)
