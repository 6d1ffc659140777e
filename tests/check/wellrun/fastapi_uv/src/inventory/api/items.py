from datetime import UTC, datetime
from typing import Annotated

import httpx
from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from inventory.db import session
from inventory.settings import get_settings

router = APIRouter(prefix="/items", tags=["items"])


@router.get("/")
async def list_items(db: Annotated[AsyncSession, Depends(session)]) -> dict:
    rows = await db.execute(text("SELECT id, name FROM items ORDER BY id LIMIT 100"))
    return {"items": [dict(r._mapping) for r in rows], "at": datetime.now(UTC).isoformat()}


@router.get("/{item_id}/price")
async def price(item_id: int) -> dict:
    async with httpx.AsyncClient(base_url=get_settings().upstream_url, timeout=5.0) as client:
        response = await client.get(f"/prices/{item_id}")
        response.raise_for_status()
    return response.json()
