"""Shared pieces of the Streamlit pages: the cached bot, Korean/English labels, safe rendering.

Every piece of document text and every question reaches the page through ``safe_html``: escaped
with ``html.escape`` and with markdown's punctuation turned into character references, so a
document containing ``<script>`` or ``[x](http://y)`` shows literally. ``st.markdown(...,
unsafe_allow_html=True)`` is only ever given HTML built here from escaped pieces.
"""
from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from bot.errors import BotError
from bot.settings import Settings
# Uploads follow one set of rules on the documents page and in the HTTP API.
from bot.uploads import delete_upload, parse_upload, save_upload, upload_name  # noqa: F401

log = logging.getLogger("bot.app")

ROOT = Path(__file__).resolve().parent
REPORTS_DIR = ROOT / "eval" / "reports"
# The kiosk's example buttons: questions the bundled corpus answers (tests/test_app.py asks each).
KIOSK_EXAMPLES = {
    "ko": ["헬스케어 분야 기업은 몇 개인가?", "지아이랩 대표는 누구인가?", "지아이랩과의 업무협약은 어디에서 체결했나?"],
    "en": ["How many healthcare companies signed?", "Who is the CEO of GI Lab?",
           "How many companies have opened an office in Gwangju?"],
}
UPLOAD_TYPES = ["txt", "md", "html", "htm", "jsonl", "hwp", "hwpx", "pdf", "docx"]

LABELS = {
    "app_title": ("보도자료 Q&A", "Press release Q&A"),
    "kiosk": ("질문하기", "Ask"),
    "fact_check": ("사실 확인", "Fact check"),
    "documents": ("문서 관리", "Documents"),
    "evaluation": ("평가", "Evaluation"),
    "visitors": ("방문객", "Visitors"),
    "staff": ("직원", "Staff"),
    "english": ("English", "English"),
    "intro": ("보도자료에 적힌 내용만으로 답하고, 근거 문단을 함께 보여 드립니다.",
              "Answers come only from the press materials, with the passages that support them."),
    "placeholder": ("보도자료에 대해 질문해 보세요", "Ask about the press releases"),
    "examples": ("이런 질문을 해 보세요", "Try asking"),
    "new_conversation": ("새 대화", "New conversation"),
    "thinking": ("보도자료에서 답을 찾는 중…", "Searching the press materials…"),
    "loading": ("답변 시스템을 준비하는 중…", "Getting ready…"),
    "sources": ("출처", "Sources"),
    "full_document": ("문서 전체 보기", "Whole document"),
    "refused_hint": ("질문에 기관·사업·사람 이름이나 날짜를 넣어 다시 물어 보세요.",
                     "Try again with the name of an organisation, project or person, or a date."),
    "refused_follow_up": ("앞 대화에 이어 다음 질문으로 찾아보았지만 보도자료에 답이 없습니다: “{rewritten}”. "
                          "다른 대상이나 날짜로 물어 보세요.",
                          "Read with the conversation as “{rewritten}”, but the press materials do not answer "
                          "that. Try asking about something else or another date."),
    "refused_after_refusal": ("앞 질문에도 답을 찾지 못해서, 이어지는 질문에도 답할 수 없습니다 (찾아본 질문: "
                              "“{rewritten}”). 궁금한 내용을 온전한 한 문장으로 물어 보세요.",
                              "The previous question had no answer either, so this one cannot build on it "
                              "(searched as “{rewritten}”). Please ask it as a full question."),
    "related": ("관련 있지만 답은 아닌 문단", "Related, but not an answer"),
    "too_long": ("질문이 너무 깁니다: {n}자입니다. {limit}자 이내로 줄여 주세요.",
                 "The question is too long ({n} characters). Please keep it under {limit}."),
    "rate_limited": ("질문이 너무 잦습니다. 1분에 {limit}개까지 물을 수 있어요. {seconds}초 뒤에 다시 시도해 주세요.",
                     "Too many questions: up to {limit} a minute. Please try again in {seconds} s."),
    "busy": ("지금 질문이 많이 몰려 있습니다. {seconds}초 뒤에 다시 시도해 주세요.",
             "Many people are asking right now. Please try again in {seconds} s."),
    "bad_question": ("질문을 이해하지 못했습니다: {reason}", "That question could not be used: {reason}"),
    "failed": ("답을 찾는 중에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.",
               "Something went wrong while answering. Please try again shortly."),
    "not_ready": ("답변 시스템을 불러오지 못했습니다: {reason}", "The answering system is not available: {reason}"),
    "password": ("직원 비밀번호", "Staff password"),
    "login": ("로그인", "Log in"),
    "logout": ("로그아웃", "Log out"),
    "login_needed": ("직원 전용 페이지입니다. 비밀번호를 입력하세요.", "Staff only. Please enter the password."),
    "wrong_password": ("비밀번호가 맞지 않습니다.", "Wrong password."),
    "locked": ("비밀번호가 여러 번 틀려 로그인이 잠겼습니다. {minutes}분 뒤에 다시 시도하세요.",
               "Too many wrong passwords: logging in is locked. Try again in {minutes} min."),
    "no_date": ("날짜 없음", "no date"),
    "no_source": ("출처 미상", "unknown source"),
    "ocr": ("스캔 문서(OCR)", "scanned (OCR)"),
}


def lang() -> str:
    """``"en"`` when the English toggle is on, else ``"ko"``."""
    return "en" if st.session_state.get("lang_en") else "ko"


def t(key: str, **values) -> str:
    """The label ``key`` in the current language, formatted with ``values``."""
    korean, english = LABELS[key]
    text = english if lang() == "en" else korean
    return text.format(**values) if values else text


def settings() -> Settings:
    """The product settings (``BOT_*`` environment variables) as this run sees them."""
    return Settings.from_env()


@st.cache_resource(show_spinner=False)
def _embedder(model_dir: str):
    from bot.embedding import Embedder

    return Embedder(model_dir, settings().embed_precision)


@st.cache_resource(show_spinner=False)
def _bot(index_dir: str, model_dir: str):
    from bot import Bot

    config = settings().with_(index_dir=Path(index_dir), model_dir=Path(model_dir))
    return Bot.load(index_dir, settings=config, embedder=_embedder(model_dir))


def get_bot():
    """The one ``Bot`` of this process for the configured index (model and index loaded once).

    When it cannot be loaded the page shows one clear line and stops.
    """
    config = settings()
    try:
        with st.spinner(t("loading")):
            return _bot(str(config.index_dir), str(config.model_dir))
    except BotError as exc:
        st.error(t("not_ready", reason=md_literal(str(exc))))
    except Exception:  # noqa: BLE001 - the page shows a short message, the log keeps the trace
        log.exception("loading the bot failed")
        st.error(t("not_ready", reason="see the server log"))
    st.stop()


# --- safe rendering -------------------------------------------------------------------------

# Markdown (and Streamlit's own directives: :red[...], $math$; GFM autolinks of www.x.y and
# a@b.c) would act on these characters. Not
# "#" or "&" or ";": html.escape writes them itself (&#x27;), and the HTML is one line starting
# with a tag, so "#" can never open a heading.
_MARKDOWN_PUNCTUATION = {ord(c): f"&#{ord(c)};" for c in "[]()*_`~$:|\\!{}+-=^<>.@"}


def safe_html(text: str) -> str:
    """``text`` as inert HTML: escaped, markdown punctuation as character references, line breaks
    as ``<br>`` (one line, so markdown never re-opens parsing after a blank line)."""
    escaped = html.escape(text, quote=True).translate(_MARKDOWN_PUNCTUATION)
    return escaped.replace("\r", "").replace("\n", "<br>")


def md_literal(text: str) -> str:
    """Plain text for a markdown-rendering element (``st.error`` ...): every markup character escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])", r"\\\1", text)


def highlighted(text: str, passage: tuple[int, int] | None = None,
                span: tuple[int, int] | None = None) -> str:
    """HTML of ``text`` with ``passage`` marked and ``span`` (inside it) marked more strongly.

    Offsets index ``text``; every piece of text is escaped by ``safe_html``.
    """
    cuts = sorted({0, len(text)} | {max(0, min(len(text), x)) for pair in (passage, span) if pair for x in pair})
    out = []
    for start, end in zip(cuts, cuts[1:]):
        piece = safe_html(text[start:end])
        if span and span[0] <= start and end <= span[1]:
            piece = f'<mark class="answer-span">{piece}</mark>'
        elif passage and passage[0] <= start and end <= passage[1]:
            piece = f'<mark class="passage">{piece}</mark>'
        out.append(piece)
    return "".join(out)


def show_html(inner: str, css_class: str = "doc-text") -> None:
    """Render HTML built from ``safe_html``/``highlighted`` pieces inside a styled block."""
    st.markdown(f'<div class="{css_class}">{inner}</div>', unsafe_allow_html=True)


def show_text(text: str, css_class: str = "plain-text") -> None:
    """Render untrusted text (a question, an answer) literally."""
    show_html(safe_html(text), css_class)


STYLE = """<style>
.doc-text, .plain-text, .hint, .quote, .card-title, .card-meta { white-space: normal; word-break: keep-all;
  overflow-wrap: anywhere; }
.plain-text { font-size: 1.15rem; line-height: 1.6; }
.answer-text { font-size: 1.5rem; font-weight: 700; line-height: 1.5; margin: 0.2rem 0 0.6rem; }
.card-title { font-weight: 700; font-size: 1.05rem; }
.card-meta { color: #5f6368; font-size: 0.9rem; margin-bottom: 0.4rem; }
.quote { border-left: 4px solid #1a73e8; padding: 0.4rem 0.8rem; background: #f6f8fc;
  border-radius: 4px; line-height: 1.7; }
.doc-text { line-height: 1.8; max-height: 28rem; overflow-y: auto; }
mark.passage { background: #fff3bf; padding: 0 1px; }
mark.answer-span { background: #ffd43b; font-weight: 700; padding: 0 2px; border-radius: 2px; }
.refusal { font-size: 1.3rem; font-weight: 700; color: #8a4b00; }
.retrieved table { width: 100%; border-collapse: collapse; font-size: 0.92rem; }
.retrieved th, .retrieved td { border-bottom: 1px solid #e3e6ea; padding: 0.4rem 0.5rem; text-align: left;
  vertical-align: top; word-break: keep-all; overflow-wrap: anywhere; }
.retrieved th { background: #f6f8fc; white-space: nowrap; }
.retrieved td:nth-child(1), .retrieved td:nth-child(4) { white-space: nowrap; }
.retrieved td:nth-child(2) { width: 22%; } .retrieved td:nth-child(3) { width: 12%; }
.hint { color: #5f6368; font-size: 0.95rem; margin: 0.2rem 0 0.6rem; }
</style>"""


def page_style() -> None:
    """The page's CSS (a constant string: no untrusted text in it)."""
    st.markdown(STYLE, unsafe_allow_html=True)


def citation_card(number: int, citation, document=None, show_score: bool = False) -> None:
    """A numbered source card: title, outlet and date, the quote with the answering span marked,
    and the whole document with the passage marked in place."""
    with st.container(border=True):
        show_html(f"{number}. {safe_html(citation.title or citation.doc_id)}", "card-title")
        meta = [citation.source or t("no_source"), citation.date or t("no_date")]
        if getattr(citation, "ocr", False):
            meta.append(t("ocr"))
        if show_score:
            meta += [f"score {citation.score:.3f}", citation.doc_id]
        show_html(" · ".join(safe_html(str(m)) for m in meta), "card-meta")
        span = None
        if citation.span_start is not None and citation.span_end is not None:
            span = (citation.span_start - citation.start, citation.span_end - citation.start)
        show_html(highlighted(citation.quote, span=span), "quote")
        if document is not None:
            with st.expander(t("full_document")):
                whole_span = (citation.span_start, citation.span_end) if span else None
                show_html(highlighted(document.text, (citation.start, citation.end), whole_span))


def answer_block(answer, documents, limit: int = 3, show_score: bool = False, with_text: bool = True,
                 previous=None) -> None:
    """The short answer first, then numbered cards of the passages that support it (``sources``);
    a refusal says so once, then a hint (why a follow-up failed, when it was one), and shows
    related passages as related, not as an answer. ``previous``: the conversation's previous Answer."""
    if answer.refused:
        if with_text:
            show_text(answer.text, "refusal")
            show_text(refusal_hint(answer, previous), "hint")
        if answer.related:
            st.markdown(f"**{t('related')}**")
            for number, citation in enumerate(answer.related[:limit], start=1):
                citation_card(number, citation, documents.get(citation.doc_id), show_score)
        return
    if with_text:
        show_text(answer.text, "answer-text")
        st.markdown(f"**{t('sources')}**")
    for number, citation in enumerate(sources(answer)[:limit], start=1):
        citation_card(number, citation, documents.get(citation.doc_id), show_score)


def refusal_hint(answer, previous=None) -> str:
    """What a visitor can do after a refusal: for a follow-up, the question it was read as (and that
    the previous turn had no answer either); otherwise what to put in the question."""
    if answer.rewritten_question:
        key = "refused_after_refusal" if previous is not None and previous.refused else "refused_follow_up"
        return t(key, rewritten=answer.rewritten_question)
    return t("refused_hint")


# --- which passages support an answer -------------------------------------------------------

@dataclass(frozen=True)
class PassageRoles:
    """An answer's passages by what they do: ``supporting`` state the answer (the answer's own
    citation first), ``disagreeing`` state another figure for it, ``retrieved`` were only found."""

    supporting: tuple
    disagreeing: tuple
    retrieved: tuple


def span_value(citation) -> str | None:
    """The answering span of a citation as its document writes it, or None without a span."""
    if citation.span_start is None or citation.span_end is None:
        return None
    return citation.quote[citation.span_start - citation.start:citation.span_end - citation.start]


def _same_value(a: str | None, b: str | None) -> bool:
    return a is None or b is None or re.sub(r"[\s,]", "", a) == re.sub(r"[\s,]", "", b)


def _overlaps(a, b) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def passage_roles(answer) -> PassageRoles:
    """Sort an answer's passages: the first citation (the answer's) and the evidence that states
    the same value support it; evidence stating another value disagrees (only in a conflict); every
    other citation, and the related passages (read, not stating the answer), was merely retrieved. Retrieved passages that
    overlap a supporting or disagreeing one are not listed twice."""
    if answer.refused or not answer.citations:
        return PassageRoles((), (), tuple(answer.related))
    lead = answer.citations[0]
    supporting, disagreeing = [lead], []
    for citation in answer.evidence:
        agrees = not answer.conflict or _same_value(span_value(lead), span_value(citation))
        (supporting if agrees else disagreeing).append(citation)
    stated = supporting + disagreeing
    retrieved = [c for c in (*answer.citations[1:], *answer.related) if not any(_overlaps(c, s) for s in stated)]
    return PassageRoles(tuple(supporting), tuple(disagreeing), tuple(retrieved))


def sources(answer) -> tuple:
    """The passages shown as an answer's sources: those that support it, then (when documents
    disagree) those stating the other figures that the answer's text names."""
    roles = passage_roles(answer)
    return roles.supporting + roles.disagreeing


def failure(exc: BaseException, what: str) -> None:
    """Show a short message for an unexpected error and log the trace (never shown to a visitor)."""
    log.exception("%s failed", what, exc_info=exc)
    st.error(t("failed"))

