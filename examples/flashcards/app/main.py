from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app.db import Base, engine
from app.routers import cards, health

app = FastAPI(title="Flashcards")

app.add_middleware(
    CORSMiddleware,
    allow_origins=["*"],
    allow_credentials=True,
    allow_methods=["*"],
    allow_headers=["*"],
)

app.include_router(health.router, prefix="/api")
app.include_router(cards.router, prefix="/api")

# "Migrations": every worker creates the tables while importing the app.
Base.metadata.create_all(bind=engine)
