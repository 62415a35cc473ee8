"""The HTTP API and the Kakao i Open Builder skill endpoint, over one ``Bot`` loaded per process.

``create_app()`` is the uvicorn factory (``make api``: ``uvicorn --factory bot.api:create_app``); it
loads the model and the index once, from ``Settings.from_env()``. Questions run in a small thread
pool so that the event loop keeps answering ``/healthz`` and can give up waiting at Kakao's
deadline. The guards are the kiosk's (``bot.guards``, ``bot.validation``): question length, a
per-client and per-process question limit (429 with ``Retry-After``), bodies bounded before they are
read, errors as JSON ``{"error": {"code", "message"}}`` and never a stack trace, CORS off unless
``cors_origins`` is set, and staff operations only with ``api_token`` set, behind that bearer token.
docs/security.md lists the limits and why.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from contextlib import asynccontextmanager
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Callable

from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from . import __version__, kakao, uploads, validation
from .api_errors import UPLOAD_PATH, ApiError, BodyLimit, install_error_handlers
from .api_models import (AnswerOut, AskRequest, DocumentOut, ErrorOut, HealthOut, RemoveOut, SearchOut,
                         SearchRequest, UploadOut)
from .conversation_store import ConversationStore, new_id, sources_of
from .errors import BadDocument, BadQuestion
from .guards import Lockout, QuestionGate, client_key
from .qa.compose import REFUSAL
from .qa.query import language_of
from .records import Answer
from .retrieval import Filters
from .settings import Settings

log = logging.getLogger("bot.api")

# Threads that run questions: two cores answer ~2 at a time; more wait in the pool's queue.
WORKERS = 4
WIDGET_DIR = Path(__file__).resolve().parent.parent / "web"  # the embeddable widget, served at /widget/
WARM_UP_QUESTIONS = ("협약을 체결한 기업은 몇 개인가?", "Who signed the agreement?")
ERRORS = {status: {"model": ErrorOut} for status in (401, 404, 413, 422, 429)}


class Service:
    """What the endpoints share: the bot, the guards, the conversations and the question threads."""

    def __init__(self, bot, settings: Settings):
        self.bot = bot
        self.settings = settings
        self.gate = QuestionGate()
        self.lockout = Lockout()
        self.conversations = ConversationStore(settings.max_conversations, settings.conversation_minutes * 60)
        self.executor = ThreadPoolExecutor(WORKERS, thread_name_prefix="bot-question")
        self._pending: OrderedDict[str, tuple[str, Future]] = OrderedDict()  # Kakao answers still running
        self._pending_lock = threading.Lock()

    async def run(self, function: Callable, *args):
        """``function(*args)`` in a question thread."""
        return await asyncio.wrap_future(self.executor.submit(function, *args))

    def client(self, request: Request) -> str:
        peer = request.client.host if request.client else None
        return client_key(peer, request.headers.getlist("x-forwarded-for"), self.settings.trusted_proxies)

    def admit(self, client: str) -> None:
        """Count a question of ``client``; 429 with ``Retry-After`` past a limit."""
        settings = self.settings
        admission = self.gate.admit(client, settings.rate_limit_per_minute,
                                    settings.rate_limit_total_per_minute, time.monotonic())
        if admission.allowed:
            return
        seconds = max(1, math.ceil(admission.retry_after))
        if admission.reason == "client":
            message = f"at most {settings.rate_limit_per_minute} questions a minute: ask again in {seconds} s"
        else:
            log.warning("API busy: %d questions a minute reached", settings.rate_limit_total_per_minute)
            message = f"the server is answering its limit of questions: ask again in {seconds} s"
        raise ApiError(429, "rate_limited" if admission.reason == "client" else "busy", message,
                       {"Retry-After": str(seconds)})

    def question(self, text: Any) -> str:
        """The question checked as ``Bot.ask`` checks it: 413 when too long, 422 otherwise."""
        try:
            return validation.question(text, self.settings.max_question_chars)
        except BadQuestion as error:
            if too_long(text, self.settings.max_question_chars):
                raise ApiError(413, "question_too_long", str(error)) from None
            raise ApiError(422, "bad_question", str(error)) from None

    def ask_and_keep(self, key: str, question: str, history) -> Answer:
        """Answer and record the turn in conversation ``key`` (in a question thread)."""
        answer = self.bot.ask(question, history)
        self.conversations.add_turn(key, question, answer, time.monotonic())
        return answer

    async def kakao_answer(self, key: str, question: str) -> Answer | None:
        """The answer if it is ready within ``kakao_answer_seconds``, else None. A question still
        running is kept: the user's retry of it waits for that run instead of starting another."""
        with self._pending_lock:
            pending = self._pending.pop(key, None)
        if pending is not None and pending[0] == question:
            future = pending[1]
        else:
            held = self.conversations.get(key, time.monotonic())
            future = self.executor.submit(self.ask_and_keep, key, question, held.turns if held else ())
        done, _ = await asyncio.wait({asyncio.wrap_future(future)}, timeout=self.settings.kakao_answer_seconds)
        if not done:
            with self._pending_lock:
                self._pending[key] = (question, future)
                while len(self._pending) > self.settings.max_conversations:
                    self._pending.popitem(last=False)
            return None
        return future.result()

    def waiting_for(self, key: str, question: str) -> bool:
        """Whether ``question`` of conversation ``key`` is still being answered after its deadline."""
        with self._pending_lock:
            pending = self._pending.get(key)
        return pending is not None and pending[0] == question

    def running(self, key: str) -> Future | None:
        """The Kakao answer still kept for conversation ``key`` after its deadline, if any."""
        with self._pending_lock:
            pending = self._pending.get(key)
        return pending[1] if pending else None

    def check_token(self, request: Request) -> None:
        """The staff bearer token, with the staff pages' lockout: 5 wrong tokens in 10 minutes lock
        the client out for 10 minutes."""
        client, now = self.client(request), time.monotonic()
        locked = self.lockout.locked_for(client, now)
        if locked:
            raise ApiError(429, "locked_out", "too many wrong tokens: try again later",
                           {"Retry-After": str(math.ceil(locked))})
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            raise ApiError(401, "unauthorized", "staff operations need the header Authorization: Bearer <api_token>",
                           {"WWW-Authenticate": "Bearer"})
        correct = hmac.compare_digest(presented.strip().encode(), self.settings.api_token.encode())
        attempt = self.lockout.attempt(client, correct, now)
        if attempt.outcome == "locked":
            raise ApiError(429, "locked_out", "too many wrong tokens: try again later",
                           {"Retry-After": str(math.ceil(attempt.locked_for))})
        if attempt.outcome == "wrong":
            raise ApiError(401, "unauthorized", "the staff token is wrong", {"WWW-Authenticate": "Bearer"})


def too_long(text: Any, max_chars: int) -> bool:
    """Whether a question is refused for its length (after the cleaning ``Bot.ask`` does)."""
    if not isinstance(text, str):
        return False
    return len(text) > max_chars * validation.RAW_SLACK or \
        len(re.sub(r"\s+", " ", validation.clean(text)).strip()) > max_chars


def warm_up(bot) -> None:
    """Ask a Korean and an English question once before serving: the first question of a fresh
    process otherwise pays for lazy set-up (the morpheme analyser, the model's first batches) and
    can miss Kakao's deadline."""
    for question in WARM_UP_QUESTIONS:
        started = time.perf_counter()
        bot.ask(question)
        log.info("warm-up question answered in %.2f s", time.perf_counter() - started)


def create_app(settings: Settings | None = None, bot=None) -> FastAPI:
    """The app over ``bot`` (loaded from ``settings`` when not given: once per process)."""
    settings = settings or Settings.from_env()
    if bot is None:
        from .service import Bot

        bot = Bot.load(settings=settings)
        warm_up(bot)
    service = Service(bot, settings)

    @asynccontextmanager
    async def lifespan(_app):
        yield
        service.executor.shutdown(wait=False, cancel_futures=True)

    # The documentation pages load Swagger UI and ReDoc from the installed package, not a CDN: a
    # press office's intranet or kiosk network may reach no outside host.
    app = FastAPIOffline(title="보도자료 Q&A API", version=__version__, lifespan=lifespan,
                         redirect_slashes=False, static_url="/docs-assets",
                         description="Cited answers from Korean press releases. Errors are "
                                     '`{"error": {"code", "message"}}`.')
    app.state.service = service
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    origins = [origin.strip() for origin in (settings.cors_origins or "").split(",") if origin.strip()]
    if origins:
        # No credentials and no Authorization header: a browser page may ask, never act as staff.
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type"], max_age=600)

    @app.get("/healthz", response_model=HealthOut)
    def healthz():
        """The model and the index are loaded: what they are."""
        manifest = service.bot.data.manifest
        return {"status": "ok",
                "model": {"name": manifest.get("model"), "fingerprint": manifest.get("model_fingerprint"),
                          "precision": getattr(service.bot.embedder, "precision", None)},
                "index": {"documents": len(service.bot.documents), "passages": service.bot.data.live_count,
                          **{key: manifest.get(key) for key in ("built_at", "corpus_fingerprint", "format_version",
                                                                "chunk_size", "chunk_overlap", "bot_version")}},
                "reader": {"precision": getattr(service.bot.reader, "precision", None),
                           "english_reader": service.bot.reader_en is not service.bot.reader,
                           "threshold": settings.reader_threshold, "threshold_en": settings.reader_threshold_en},
                "conversations": len(service.conversations)}

    @app.post("/v1/ask", response_model=AnswerOut, responses=ERRORS)
    async def ask(body: AskRequest, request: Request):
        """Answer with quotes from the press releases, or refuse. Follow-ups: send the
        ``conversation_id`` of the previous answer (or your own ``history``)."""
        service.admit(service.client(request))
        question = service.question(body.question)
        if body.history and body.conversation_id:
            raise ApiError(422, "bad_argument", "send history or conversation_id, not both")
        held = service.conversations.get("api:" + body.conversation_id, time.monotonic()) \
            if body.conversation_id else None
        conversation_id = body.conversation_id if held else new_id()
        history = held.turns if held else _client_history(body.history)
        answer = await service.run(service.ask_and_keep, "api:" + conversation_id, question, history)
        if answer.refused and body.lang:
            answer = replace(answer, text=REFUSAL[body.lang], language=body.lang)
        return {**asdict(answer), "conversation_id": conversation_id}

    @app.post("/v1/search", response_model=SearchOut, responses=ERRORS)
    async def search(body: SearchRequest, request: Request):
        """The best passages for a question, with their offsets in the document."""
        service.admit(service.client(request))
        question = service.question(body.question)
        filters = Filters(body.date_from, body.date_to, (body.source,) if body.source else ())
        hits = await service.run(service.bot.search, question, body.k, filters if filters else None)
        return {"question": question, "passages": [
            {"doc_id": hit.doc_id, "chunk_id": hit.chunk.chunk_id, "title": hit.chunk.title,
             "date": hit.chunk.date, "source": hit.chunk.source, "url": hit.chunk.meta.get("url"),
             "text": hit.text, "start": hit.chunk.start, "end": hit.chunk.end,
             "score": round(float(hit.score), 4), "ranks": dict(hit.ranks)} for hit in hits]}

    @app.get("/v1/documents/{doc_id:path}", response_model=DocumentOut, responses=ERRORS)
    def document(doc_id: str):
        """A document's text and metadata: what citation offsets point into."""
        found = service.bot.documents.get(doc_id)
        if found is None:
            raise ApiError(404, "document_not_found", "no document has this id")
        return {**asdict(found), "meta": dict(found.meta)}

    @app.post("/kakao/skill", responses={422: {"model": ErrorOut}})
    async def kakao_skill(payload: dict[str, Any] = Body(
            ..., examples=[{"userRequest": {"utterance": "헬스케어 분야 기업은 몇 개인가?", "user": {"id": "u1"}}}])):
        """A Kakao i Open Builder skill: the utterance's answer as a ``version: "2.0"`` response
        within Kakao's 5 s (``kakao_answer_seconds``, then "send it again")."""
        skill = kakao.skill_request(payload)
        utterance = re.sub(r"\s+", " ", validation.clean(skill.utterance)).strip()
        language = language_of(utterance) if utterance else kakao.lang_code(skill.lang)
        if not utterance:
            return kakao.message("empty", language)
        key = "kakao:" + skill.user_id
        number = kakao.source_asked(utterance)
        if number is not None:
            held = service.conversations.get(key, time.monotonic())
            return kakao.source_response(held.sources if held else (), number, language)
        try:
            question = service.question(utterance)
            if not service.waiting_for(key, question):  # a retry starts nothing: not counted
                service.admit(key)  # Kakao's servers send every user's request: count per user
        except ApiError as error:
            if error.status_code == 429:
                return kakao.message(error.code, language, seconds=error.headers["Retry-After"])
            return kakao.message("too_long" if error.status_code == 413 else "unreadable", language,
                                 limit=settings.max_question_chars)
        try:
            answer = await service.kakao_answer(key, question)
        except Exception:  # noqa: BLE001 - Kakao shows nothing for an error status: say so in words
            log.exception("Kakao skill: answering failed")
            return kakao.message("failed", language)
        if answer is None:
            return kakao.message("slow", language)
        return kakao.answer_response(answer, sources_of(answer))

    if settings.api_token:
        _staff_routes(app, service)
    if WIDGET_DIR.is_dir():
        # The embeddable widget (web/widget.html) from the API's own origin: it asks /v1/ask with
        # no CORS to configure, and a page that embeds it in an <iframe> needs none either.
        app.mount("/widget", StaticFiles(directory=WIDGET_DIR), name="widget")
    return app


def _staff_routes(app: FastAPI, service: Service) -> None:
    """Upload and remove, registered only when ``api_token`` is set."""
    staff = [Depends(service.check_token)]

    async def check_upload_token(request: Request) -> None:
        """The staff token of an upload, checked once its body is read: a 401 sent while the client
        is still sending the file reaches it as a reset connection, not as the answer."""
        await request.body()
        service.check_token(request)

    @app.post(UPLOAD_PATH, status_code=201, response_model=UploadOut, dependencies=[Depends(check_upload_token)],
              responses=ERRORS,
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def upload(request: Request, filename: str = Query(..., min_length=1, max_length=255,
                                                              description="the file's name: its suffix picks the reader")):
        """Add a press release (the file's bytes as the body): parsed as the corpus loader reads it,
        indexed, and kept in ``corpus/uploads/`` so a full rebuild keeps it."""
        data = await request.body()
        try:
            documents, skipped = await service.run(uploads.parse_upload, filename, data)
        except BadDocument as error:
            raise ApiError(422, "bad_document", str(error)) from None
        if not documents:
            raise ApiError(422, "bad_document", "the file holds no document that could be read: " +
                           "; ".join(f"{s.path}: {s.reason}" for s in skipped[:5]))
        known = service.bot.documents
        added = [{"doc_id": d.doc_id, "title": d.title, "date": d.date, "replaced": d.doc_id in known}
                 for d in documents]
        passages = await service.run(service.bot.add_documents, documents)
        uploads.save_upload(service.settings.corpus_dir, filename, data)
        return {"documents": added, "passages": passages,
                "skipped": [{"path": s.path, "reason": s.reason} for s in skipped]}

    @app.delete("/v1/documents/{doc_id:path}", response_model=RemoveOut, dependencies=staff, responses=ERRORS)
    async def remove(doc_id: str):
        """Remove a document and its passages from the index (and its upload file)."""
        found = service.bot.documents.get(doc_id)
        if found is None:
            raise ApiError(404, "document_not_found", "no document has this id")
        await service.run(service.bot.remove_document, doc_id)
        return {"removed": doc_id, "upload_deleted": uploads.delete_upload(service.settings.corpus_dir, found)}


def _client_history(turns) -> tuple:
    """A client's ``[{question, answer}]`` as the ``(question, Answer)`` pairs ``Bot.ask`` reads."""
    return tuple((turn.question, Answer(question=turn.question, text=turn.answer, refused=False))
                 for turn in turns or ())
