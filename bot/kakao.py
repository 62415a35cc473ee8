"""The Kakao i Open Builder skill format: the utterance out of a skill request, and ``Answer``\\s
into ``version: "2.0"`` skill responses. Pure functions over dicts; the endpoint is ``bot/api.py``.

The format, as Kakao publishes it ("응답 타입별 JSON 포맷", kakaobusiness.gitbook.io, chatbot skill
guide): the request carries ``userRequest.utterance`` and ``userRequest.user.id`` (the user's
``botUserKey``, stable per channel); the response is ``{"version": "2.0", "template": {"outputs":
[1 to 3 components], "quickReplies": [at most 10]}}``. A ``simpleText`` holds at most 1,000
characters; a quick reply is ``{"label", "action": "message", "messageText"}``, its label at most
14 characters. ``basicCard`` needs a thumbnail image, which a press release does not have, so the
sources are quick replies: tapping ``출처 1`` sends that utterance back, and the skill answers with
that source's quote, title, date and link from the user's last answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import BadArgument
from .records import Answer, Citation

VERSION = "2.0"
MAX_TEXT_CHARS = 1000
MAX_QUICK_REPLIES = 10
MAX_LABEL_CHARS = 14
# The skill request is Kakao's; these bound what a forged one can make the server hold.
MAX_USER_ID_CHARS = 200
MAX_UTTERANCE_CHARS = 5000

SOURCE_LABEL = {"ko": "출처 {n}", "en": "Source {n}"}
_SOURCE_ASKED = re.compile(r"\s*(?:출처|source)\s*(\d{1,2})\s*[.?!]?\s*", re.I)

MESSAGES = {
    "empty": {"ko": "보도자료에 대해 궁금한 점을 질문해 주세요. 예: 헬스케어 분야 기업은 몇 개인가?",
              "en": "Ask a question about the press releases, e.g. How many healthcare companies signed?"},
    "slow": {"ko": "답을 찾는 데 시간이 조금 더 걸리고 있어요. 잠시 후 같은 질문을 다시 보내 주세요.",
             "en": "Finding the answer is taking a little longer. Please send the same question again in a moment."},
    "too_long": {"ko": "질문이 너무 깁니다. {limit}자 이내의 한 가지 질문으로 보내 주세요.",
                 "en": "The question is too long. Please send one question of at most {limit} characters."},
    "unreadable": {"ko": "질문을 읽을 수 없습니다. 다른 말로 다시 질문해 주세요.",
                   "en": "The question could not be read. Please ask it another way."},
    "rate_limited": {"ko": "질문이 너무 잦습니다. {seconds}초 후에 다시 질문해 주세요.",
                     "en": "Too many questions at once. Please ask again in {seconds} seconds."},
    "busy": {"ko": "지금 질문이 많아 답하지 못했습니다. {seconds}초 후에 다시 질문해 주세요.",
             "en": "Many people are asking right now. Please ask again in {seconds} seconds."},
    "no_source": {"ko": "보여 드릴 출처가 없습니다. 먼저 질문해 주세요.",
                  "en": "There is no source to show. Please ask a question first."},
    "failed": {"ko": "답을 찾는 중 문제가 생겼습니다. 잠시 후 다시 질문해 주세요.",
               "en": "Something went wrong while answering. Please ask again later."},
    "source": {"ko": "출처", "en": "Source"},
}


@dataclass(frozen=True)
class SkillRequest:
    """What the skill reads of a request: the utterance, the user and the language Kakao reports."""

    utterance: str
    user_id: str
    lang: str | None = None


def skill_request(payload: Any) -> SkillRequest:
    """The utterance and user of a skill payload; ``BadArgument`` when it is not one."""
    if not isinstance(payload, Mapping):
        raise BadArgument("a Kakao skill request is a JSON object with userRequest")
    user_request = payload.get("userRequest")
    if not isinstance(user_request, Mapping):
        raise BadArgument("userRequest is missing: this endpoint takes Kakao i Open Builder skill requests")
    utterance = user_request.get("utterance")
    if not isinstance(utterance, str):
        raise BadArgument("userRequest.utterance must be text")
    if len(utterance) > MAX_UTTERANCE_CHARS:
        raise BadArgument(f"userRequest.utterance is over {MAX_UTTERANCE_CHARS} characters")
    user = user_request.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    if not isinstance(user_id, str) or not user_id or len(user_id) > MAX_USER_ID_CHARS:
        raise BadArgument(f"userRequest.user.id must be text of 1 to {MAX_USER_ID_CHARS} characters")
    lang = user_request.get("lang")
    return SkillRequest(utterance, user_id, lang if isinstance(lang, str) else None)


def source_asked(utterance: str) -> int | None:
    """The number of ``출처 2`` / ``Source 2`` (a source quick reply tapped), or None."""
    match = _SOURCE_ASKED.fullmatch(utterance)
    return int(match.group(1)) if match else None


def text_response(text: str, quick_replies: Sequence[Mapping[str, str]] = ()) -> dict:
    """A skill response of one ``simpleText`` (cut to the limit) and optional quick replies."""
    template: dict = {"outputs": [{"simpleText": {"text": _cut(text, MAX_TEXT_CHARS)}}]}
    if quick_replies:
        template["quickReplies"] = [dict(reply) for reply in quick_replies[:MAX_QUICK_REPLIES]]
    return {"version": VERSION, "template": template}


def message(name: str, language: str, **values) -> dict:
    """One of the skill's own messages (``MESSAGES``) in ``language`` as a skill response."""
    return text_response(MESSAGES[name][lang_code(language)].format(**values))


def answer_response(answer: Answer, sources: Sequence[Citation], language: str | None = None) -> dict:
    """The short answer with its source (title, date), and a quick reply per source; a refusal
    says so in the question's language (``language`` overrides it) and offers none."""
    language = lang_code(language or answer.language)
    if answer.refused or not sources:
        return text_response(answer.text)
    first = sources[0]
    text = f"{answer.text}\n\n{MESSAGES['source'][language]}: {_described(first)}"
    return text_response(text, source_replies(len(sources), language))


def source_response(sources: Sequence[Citation], number: int, language: str) -> dict:
    """Source ``number`` (1-based) of the last answer: title, date and outlet, the quote and
    its link; the quick replies offer the other sources."""
    language = lang_code(language)
    if not 1 <= number <= len(sources):
        return message("no_source", language)
    citation = sources[number - 1]
    lines = [f"[{number}] {citation.title}".rstrip(), _where(citation), "", f"“{citation.quote.strip()}”"]
    if citation.url:
        lines += ["", citation.url]
    return text_response("\n".join(lines), source_replies(len(sources), language))


def source_replies(count: int, language: str) -> list[dict]:
    """Quick replies ``출처 1`` … ``출처 N`` that ask for each source."""
    labels = [SOURCE_LABEL[lang_code(language)].format(n=n) for n in range(1, count + 1)]
    return [{"label": label[:MAX_LABEL_CHARS], "action": "message", "messageText": label}
            for label in labels[:MAX_QUICK_REPLIES]]


def _described(citation: Citation) -> str:
    where = ", ".join(part for part in (citation.date, citation.source) if part)
    return f"{citation.title} ({where})" if where else citation.title


def _where(citation: Citation) -> str:
    return " · ".join(part for part in (citation.date, citation.source) if part)


def lang_code(language: str | None) -> str:
    """``en`` for an English language tag, else ``ko`` (Kakao sends ``ko``/``kr``)."""
    return "en" if (language or "").lower().startswith("en") else "ko"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"
