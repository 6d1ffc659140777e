"""FastAPI test app: a few routes with the problems real apps have."""

import asyncio
import logging

import _configure
from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse

from prodready.runtime.health import is_draining

app = FastAPI()
log = logging.getLogger("fastapi_app")


@app.get("/hello")
async def hello():
    return {"hello": "world"}


@app.get("/items/{item_id}")
def item(item_id: int):
    log.warning("looking up item %s", item_id)  # a sync handler, run in a thread pool
    return {"id": item_id}


@app.get("/boom")
def boom():
    raise RuntimeError("unhandled in a handler")


@app.get("/missing")
async def missing():
    raise HTTPException(status_code=404, detail="nothing here")


@app.get("/framed")
async def framed():
    return PlainTextResponse("x", headers={"X-Frame-Options": "SAMEORIGIN"})


@app.post("/upload")
async def upload(request: Request):
    return {"size": len(await request.body())}


@app.get("/slow")
async def slow():
    await asyncio.sleep(0.2)
    return {"slow": True}


@app.get("/draining")
async def draining():
    await asyncio.sleep(1)
    return {"draining": is_draining()}


# Included routers: the label is the full template, include prefixes and all. The same
# router included twice gives one route object two templates.
decks = APIRouter(prefix="/decks")


@decks.get("/{deck_id}/cards/{card_id}")
async def card(deck_id: int, card_id: int):
    return {"deck": deck_id, "card": card_id}


api = APIRouter(prefix="/api")
api.include_router(decks, prefix="/v1")
app.include_router(api, prefix="/{tenant}")
app.include_router(decks, prefix="/legacy")

prod = _configure.install(app)

# Mounted after Production(app): route labels still carry the mounts' templates.
v1 = FastAPI()


@v1.get("/orders/{order_id}")
async def order(order_id: int):
    return {"order": order_id}


tenants = FastAPI()
tenants.mount("/v1", v1)
app.mount("/tenants/{tenant}", tenants)
