"""A plain ASGI app, no framework; served through the Production object itself."""

import _configure


async def raw(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/boom":
        raise RuntimeError("unhandled in a plain ASGI app")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


app = _configure.install(raw)
