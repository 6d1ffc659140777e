from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from inventory.settings import get_settings

_engine = None


def engine():
    global _engine
    if _engine is None:
        settings = get_settings()
        _engine = create_async_engine(
            str(settings.database_url), pool_size=5, max_overflow=5, pool_pre_ping=True
        )
    return _engine


async def session() -> AsyncIterator[AsyncSession]:
    async with async_sessionmaker(engine(), expire_on_commit=False)() as db:
        yield db
