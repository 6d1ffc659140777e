from fastapi import APIRouter
from sqlalchemy import text

from app.cache import redis_client
from app.db import engine

router = APIRouter(tags=["health"])


@router.get("/health")
def health():
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    redis_client.ping()
    return {"status": "ok"}
