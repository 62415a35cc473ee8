"""An optional generated answer: an OpenAI-compatible chat endpoint, checked against its passages.

Off by default (``Settings.llm_url`` / ``BOT_LLM_URL`` unset) and never needed: the product answers
extractively on its own. When an endpoint is configured (for example Ollama at
``http://localhost:11434/v1``), the model is given the retrieved passages, numbered ``[1]``,
``[2]`` ..., and told to answer only from them and to cite every sentence. Its answer is then
checked: every sentence must cite a passage that exists, and every number and name in a sentence
must appear in a passage that sentence cites. The caller falls back to the extractive answer
whenever the endpoint fails (``LLMUnavailable``) or the check fails (``Checked.ok`` is False); this
module never falls back by itself.

Standard library only (``urllib.request``, ``json``): one request with a timeout, no retries.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

from bot.errors import BotError
from bot.lexical import kiwi, normalise_number

KOREAN_REFUSAL = "보도자료에서 이 질문에 대한 답을 찾을 수 없습니다."
ENGLISH_REFUSAL = "I can't find the answer to this question in the press releases."
LANGUAGES = ("ko", "en")

# A citation marker: [1], [1, 2] or [1][2] (a run of markers is matched one bracket at a time).
_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")
# A sentence ends at ? ! 。 or a full stop that is not a decimal point (128.7), then takes
# closing quotes and any citation markers written after the stop ("... 8곳입니다. [1]"); or at a
# newline.
_SENTENCE_END = re.compile(
    r"(?:[?!。]|\.(?!\d)|(?<!\d)\.)+[\"'”’)]*"
    r"(?:[ \t]*\[\s*\d+(?:\s*,\s*\d+)*\s*\])*[.?!。]*"
    r"|\n")
# A number as the check reads it: digits with , and . inside (1,100 / 128.7), not a trailing stop.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A list enumerator at the start of a sentence ("1. ", "2) ", "- "): layout, not a claim.
_ENUMERATOR = re.compile(r"^\s*(?:\d{1,2}[.)]\s+|[-*•·]\s*)")
# A name-like Latin word: a capital letter, then at least one more letter.
_LATIN_NAME = re.compile(r"(?<![A-Za-z])[A-Z][A-Za-z]+(?![A-Za-z])")
_HANGUL = re.compile(r"[가-힣]+")
# Capitalised English function words that open sentences; they name nothing.
_NOT_NAMES = frozenset("""
    The This That These Those There Their They Them It Its He She His Her We Our You Your
    In On At As By For From Of To With Without Into About After Before During Since Until While
    And But Or So If When Where What Which Who Whom Whose Why How Yes No Not Also However Both
    Each All Some Any Most Many More According Based Under Over Between Among Per Than Then
""".split())


class LLMUnavailable(BotError, RuntimeError):
    """The chat endpoint could not give an answer: network error, HTTP error, timeout, bad JSON."""


@dataclass(frozen=True)
class Passage:
    """One numbered passage given to the model."""

    number: int  # 1-based, as shown to the model: [1], [2] ...
    doc_id: str
    title: str
    date: str | None
    text: str  # the exact quoted text (a document slice)


@dataclass(frozen=True)
class Checked:
    """A generated answer and the verdict of ``check`` on it."""

    text: str  # the model's answer (stripped)
    cited: tuple[int, ...]  # passage numbers it cites, in order of first appearance
    ok: bool  # True only if every check passed
    reason: str  # "" when ok, else a short English reason


def build_messages(question: str, passages: list[Passage], language: str) -> list[dict]:
    """The system and user messages for one question: answer only from the numbered passages,
    cite every sentence with [n], answer in ``language`` ("ko" or "en"), refuse in the fixed
    sentence when the passages do not answer (the check recognises that sentence)."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")
    answer_language = "Korean" if language == "ko" else "English"
    refusal = KOREAN_REFUSAL if language == "ko" else ENGLISH_REFUSAL
    system = (
        "You answer questions about Korean press releases using only the numbered passages the "
        "user gives you. Rules:\n"
        "1. Use only facts stated in the passages; never add outside knowledge.\n"
        "2. End every sentence with the number of the passage it comes from, in square brackets, "
        "for example [1] or [1][2].\n"
        "3. Copy numbers and names exactly as the passages write them.\n"
        f"4. Answer in {answer_language}, in one to three short sentences.\n"
        "5. If the passages do not answer the question, reply with exactly this sentence and "
        f"nothing else: {refusal}")
    user = f"Passages:\n\n{format_passages(passages)}\n\nQuestion: {question.strip()}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def format_passages(passages: list[Passage]) -> str:
    """The passages as the model reads them: ``[n] title (date)`` then the quoted text."""
    blocks = []
    for passage in passages:
        heading = f"[{passage.number}] {passage.title}".rstrip()
        if passage.date:
            heading += f" ({passage.date})"
        blocks.append(f"{heading}\n{passage.text.strip()}")
    return "\n\n".join(blocks)


def complete(url: str, messages: list[dict], model: str = "default", timeout: float = 20.0) -> str:
    """The model's reply to ``messages`` from the chat-completions endpoint under ``url``.

    One POST to ``{url}/chat/completions`` at temperature 0, no retries. Any failure (network,
    HTTP status, timeout, a body that is not the expected JSON) raises ``LLMUnavailable`` naming
    the endpoint and the cause, so the caller can fall back to the extractive answer.
    """
    endpoint = url.rstrip("/") + "/chat/completions"
    parts = urllib.parse.urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LLMUnavailable(f"LLM endpoint {endpoint!r} is not an http(s) URL; set BOT_LLM_URL "
                             "to e.g. http://localhost:11434/v1")
    body = json.dumps({"model": model, "messages": messages, "temperature": 0},
                      ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(endpoint, data=body, method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Accept": "application/json"})
    try:
        with _opener(parts.hostname).open(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise LLMUnavailable(f"LLM endpoint {endpoint} answered HTTP {error.code} "
                             f"{error.reason}") from error
    except urllib.error.URLError as error:
        raise LLMUnavailable(f"LLM endpoint {endpoint} unreachable: {error.reason}") from error
    except TimeoutError as error:
        raise LLMUnavailable(f"LLM endpoint {endpoint} timed out after {timeout:g} s") from error
    except (OSError, http.client.HTTPException) as error:
        raise LLMUnavailable(f"LLM endpoint {endpoint} failed: {error!r}") from error
    return _reply_content(raw, endpoint)


def _opener(hostname: str) -> urllib.request.OpenerDirector:
    """A direct opener for a local endpoint (a proxy from the environment cannot reach this
    machine's localhost); the default, proxy-aware one otherwise."""
    try:
        loopback = hostname == "localhost" or ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _reply_content(raw: bytes, endpoint: str) -> str:
    """``choices[0].message.content`` of a chat-completions response body."""
    try:
        content = json.loads(raw.decode("utf-8"))["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise LLMUnavailable(f"LLM endpoint {endpoint} sent a malformed reply "
                             f"({type(error).__name__}: {error}): {raw[:200]!r}") from error
    if not isinstance(content, str):
        raise LLMUnavailable(f"LLM endpoint {endpoint} sent a reply whose content is not text: "
                             f"{content!r}")
    return content


def sentences(answer: str) -> list[str]:
    """The sentences of ``answer``, each with the [n] markers written at its end.

    Splits after . ? ! 。 (not a decimal point) and at newlines. Markers written after the stop
    stay with their sentence; a piece with no words (a lone marker line) joins the sentence before,
    a lone enumerator ("1.") joins the one after.
    """
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(answer):
        pieces.append(answer[start:match.end()])
        start = match.end()
    pieces.append(answer[start:])
    result: list[str] = []
    carry = ""
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        has_words = re.search(r"[^\W\d_]", _MARKER.sub("", piece)) is not None
        if has_words:
            result.append(f"{carry} {piece}".strip())
            carry = ""
        elif _MARKER.search(piece) and result:
            result[-1] = f"{result[-1]} {piece}"
        else:
            carry = f"{carry} {piece}".strip()
    if carry:
        result.append(carry)
    return result


def citations(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order, repeats kept."""
    return [int(n) for marker in _MARKER.findall(sentence) for n in marker.split(",")]


def is_refusal(sentence: str) -> bool:
    """Whether a sentence is the fixed refusal (Korean) or says it cannot find (English)."""
    bare = _MARKER.sub("", sentence)
    compact = re.sub(r"[\s.。!?]", "", bare)
    if re.sub(r"[\s.]", "", KOREAN_REFUSAL) in compact:
        return True
    lowered = bare.lower().replace("’", "'")
    return "can't find" in lowered or "cannot find" in lowered


def numbers(sentence: str) -> list[str]:
    """The numbers a sentence states, as written (citation markers and a leading enumerator are
    not claims)."""
    claim = _ENUMERATOR.sub("", _MARKER.sub(" ", sentence))
    return _NUMBER.findall(claim)


def names(sentence: str) -> list[str]:
    """The name-like words of a sentence: capitalised Latin words (not sentence-opening function
    words) and the Hangul proper nouns (NNP) Kiwi finds."""
    claim = _MARKER.sub(" ", sentence)
    found = [w for w in _LATIN_NAME.findall(claim) if w not in _NOT_NAMES]
    found += [t.form for t in kiwi().tokenize(claim)
              if t.tag == "NNP" and _HANGUL.fullmatch(t.form)]
    return list(dict.fromkeys(found))


def number_in(number: str, text: str) -> bool:
    """Whether ``text`` states ``number`` as a whole number, commas and spaces aside: 1,100 matches
    1100, but 8 does not match 28 or 8.5."""
    wanted = normalise_number(number.replace(" ", ""))
    return any(normalise_number(found) == wanted for found in _NUMBER.findall(text))


def name_in(name: str, text: str) -> bool:
    """Whether ``text`` contains ``name`` (Latin case aside, spaces aside)."""
    return name.casefold().replace(" ", "") in text.casefold().replace(" ", "")


def check(answer: str, passages: list[Passage]) -> Checked:
    """Whether every sentence of ``answer`` is grounded in the passages it cites.

    Each sentence must cite at least one passage that exists; each number it states and each name
    it uses must appear in the text of a passage it cites. The fixed refusal sentence needs no
    citation. ``reason`` names the first failure; ``cited`` lists every cited number in order of
    first appearance, so the caller can show the passages an accepted answer rests on.
    """
    text = answer.strip()
    split = sentences(text)
    cited = tuple(dict.fromkeys(n for sentence in split for n in citations(sentence)))
    by_number = {passage.number: passage for passage in passages}
    reason = _first_failure(split, by_number) if split else "the answer is empty"
    return Checked(text=text, cited=cited, ok=not reason, reason=reason)


def _first_failure(split: list[str], by_number: dict[int, Passage]) -> str:
    """The reason the first ungrounded sentence fails, or "" when all are grounded."""
    for position, sentence in enumerate(split, start=1):
        if is_refusal(sentence):
            continue
        numbers_cited = list(dict.fromkeys(citations(sentence)))
        if not numbers_cited:
            return f"sentence {position} cites no passage"
        missing = [n for n in numbers_cited if n not in by_number]
        if missing:
            return (f"sentence {position} cites passage {missing[0]}, but the passages are "
                    f"{sorted(by_number)}")
        sources = [by_number[n].text for n in numbers_cited]
        for number in numbers(sentence):
            if not any(number_in(number, source) for source in sources):
                return f"number {number} not in cited passages {numbers_cited}"
        for name in names(sentence):
            if not any(name_in(name, source) for source in sources):
                return f"name {name} not in cited passages {numbers_cited}"
    return ""


def llm_answer(url: str, question: str, passages: list[Passage], language: str,
               model: str = "default", timeout: float = 20.0) -> Checked:
    """The model's answer to ``question`` from ``passages``, with the check's verdict.

    Raises ``LLMUnavailable`` when the endpoint fails; a reply that fails the check comes back with
    ``ok`` False, and the caller falls back to the extractive answer in both cases.
    """
    reply = complete(url, build_messages(question, passages, language), model=model,
                     timeout=timeout)
    return check(reply, passages)
