"""Conversations an HTTP client continues by an opaque id: the turns a follow-up reads, kept
server-side with bounded memory.

Pure and UI-free like ``bot.guards``: every method takes ``now`` in seconds. A conversation idle for
``ttl`` seconds is forgotten; past ``max_conversations`` the one used least recently is dropped;
each keeps its last ``validation.HISTORY_TURNS`` turns (``Bot.ask`` reads no more) with slimmed
answers: the first citation (a question about "its reporter" reads its document) but not the
retrieved passages, so a full store holds tens of megabytes, not hundreds.
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

from .records import Answer, Citation
from .validation import HISTORY_TURNS


@dataclass(frozen=True)
class Conversation:
    """What is kept of one conversation: its last turns and the sources of its last answer."""

    turns: tuple[tuple[str, Answer], ...] = ()
    sources: tuple[Citation, ...] = ()  # what the last answer stands on (the Kakao skill's "출처 N")
    touched: float = 0.0


def new_id() -> str:
    """An unguessable conversation id (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def sources_of(answer: Answer, limit: int = 3) -> tuple[Citation, ...]:
    """The passages that support an answer: the quoted one and the others stating the same value.
    Retrieved passages that merely rank high are not sources; a refusal has none."""
    if answer.refused or not answer.citations:
        return ()
    return (answer.citations[0], *answer.evidence)[:limit]


def slim(answer: Answer) -> Answer:
    """The answer as a later turn reads it (``conversation.resolve``, ``Bot._about_document``)."""
    return replace(answer, citations=answer.citations[:1], evidence=(), related=())


class ConversationStore:
    """Conversations by id, least recently used first (thread-safe)."""

    def __init__(self, max_conversations: int, ttl: float, max_turns: int = HISTORY_TURNS):
        self.max_conversations = max_conversations
        self.ttl = ttl
        self.max_turns = max_turns
        self._held: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)

    def get(self, key: str, now: float) -> Conversation | None:
        """The conversation, or None when it is unknown or expired."""
        with self._lock:
            held = self._held.get(key)
            if held is None:
                return None
            if now - held.touched >= self.ttl:
                del self._held[key]
                return None
            return held

    def add_turn(self, key: str, question: str, answer: Answer, now: float) -> None:
        """Append a turn (keeping the last ``max_turns``) and remember the answer's sources."""
        with self._lock:
            held = self._held.pop(key, None)
            if held is None or now - held.touched >= self.ttl:
                held = Conversation()
            turns = (*held.turns, (question, slim(answer)))[-self.max_turns:]
            self._held[key] = Conversation(turns, sources_of(answer), now)
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Drop expired conversations (oldest first, stopping at the first live one) and, past
        ``max_conversations``, the least recently used."""
        while self._held:
            key, oldest = next(iter(self._held.items()))
            if now - oldest.touched < self.ttl and len(self._held) <= self.max_conversations:
                break
            del self._held[key]
