"""Errors and request bounds of the HTTP API (``bot/api.py``): every error answered as JSON
``{"error": {"code", "message"}}`` with a stable ``code`` and never a stack trace (an unexpected one is
logged), and request bodies bounded before and while they are read."""
from __future__ import annotations

import logging

from fastapi import FastAPI, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .errors import BadArgument, BadQuestion, BotError
from .limits import MAX_FILE_BYTES

log = logging.getLogger("bot.api")

# A question with a 4-turn history is a few kilobytes; JSON may escape each Hangul syllable to 6 bytes.
MAX_JSON_BYTES = 64 * 1024
UPLOAD_PATH = "/v1/documents"  # the one endpoint whose body is a file, up to limits.MAX_FILE_BYTES
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "method_not_allowed",
                 413: "payload_too_large", 415: "unsupported_media_type", 429: "rate_limited"}


class ApiError(HTTPException):
    """An error answered as ``{"error": {"code", "message"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status, message, headers)
        self.code = code


def _error(status: int, code: str, message: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Every error as ``{"error": {"code", "message"}}``; an unexpected one is logged, not shown."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request, error: StarletteHTTPException):
        code = getattr(error, "code", None) or _STATUS_CODES.get(error.status_code, "error")
        message = error.detail if isinstance(error.detail, str) else "request refused"
        if error.status_code == 404 and code == "not_found":
            message = "no such endpoint: the API is described at /docs"
        return _error(error.status_code, code, message, getattr(error, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def malformed(_request, error: RequestValidationError):
        problems = []
        for problem in error.errors()[:3]:  # where and what, never the value sent
            where = ".".join(str(part) for part in problem.get("loc", ()) if part != "body") or "body"
            problems.append(f"{where}: {problem.get('msg', 'invalid')}")
        return _error(422, "malformed_request", "; ".join(problems) or "the request body is not valid")

    @app.exception_handler(BotError)
    async def bot_error(_request, error: BotError):
        if isinstance(error, (BadQuestion, BadArgument)):
            return _error(422, "bad_question" if isinstance(error, BadQuestion) else "bad_argument", str(error))
        log.error("API: %s: %s", type(error).__name__, error)
        return _error(503, "unavailable", "the index or model cannot be used right now; the error is logged")

    @app.exception_handler(Exception)
    async def unexpected(_request, error: Exception):
        log.error("API: unexpected %s", type(error).__name__, exc_info=error)
        return _error(500, "internal_error", "the server could not answer this request; the error is logged")


class BodyLimit:
    """Refuse request bodies over ``MAX_JSON_BYTES`` (an upload: ``limits.MAX_FILE_BYTES``) with 413,
    from ``Content-Length`` before anything is read, or while a chunked body streams in."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = MAX_FILE_BYTES if scope["path"] == UPLOAD_PATH and scope["method"] == "POST" else MAX_JSON_BYTES
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            response = _error(413, "payload_too_large", f"the request body is over {limit:,} bytes")
            return await response(scope, receive, send)
        received = 0

        async def bounded():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise ApiError(413, "payload_too_large", f"the request body is over {limit:,} bytes")
            return message

        await self.app(scope, bounded, send)
