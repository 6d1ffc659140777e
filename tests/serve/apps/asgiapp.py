"""A bare ASGI app (no framework)."""

import asyncio
import json

from prodready.runtime.health import is_draining


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b"ok"
    if scope["path"] == "/slow":
        await asyncio.sleep(2)
        body = json.dumps({"slow": True, "draining_when_done": is_draining()}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})
