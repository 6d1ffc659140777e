import json
import os

import requests
from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.cache import redis_client
from app.db import get_session
from app.models import Card, Deck

router = APIRouter(prefix="/decks", tags=["cards"])

TRANSLATE_URL = os.getenv("TRANSLATE_URL", "http://translate.internal/v1/translate")


class CardIn(BaseModel):
    front: str
    back: str


@router.get("/")
def list_decks(session: Session = Depends(get_session)):
    cached = redis_client.get("decks")
    if cached:
        return json.loads(cached)
    decks = [{"id": d.id, "name": d.name} for d in session.query(Deck).all()]
    redis_client.setex("decks", 60, json.dumps(decks))
    return decks


@router.get("/{deck_id}/cards")
def list_cards(deck_id: int, session: Session = Depends(get_session)):
    cards = session.query(Card).filter(Card.deck_id == deck_id).all()
    return [{"id": c.id, "front": c.front, "back": c.back} for c in cards]


@router.post("/{deck_id}/cards")
async def add_card(deck_id: int, card: CardIn, session: Session = Depends(get_session)):
    if session.get(Deck, deck_id) is None:
        raise HTTPException(status_code=404, detail="no such deck")
    # Blocking HTTP call inside `async def`: stalls the event loop of the whole worker.
    translated = requests.post(TRANSLATE_URL, json={"text": card.back, "to": "en"}).json()
    row = Card(deck_id=deck_id, front=card.front, back=translated.get("text", card.back))
    session.add(row)
    session.commit()
    redis_client.delete("decks")
    return {"id": row.id}
