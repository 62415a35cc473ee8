"""Press-release metadata from extracted text: title, release date, issuer, department, contact.

Pure functions over the text every reader produces (one paragraph or table row per line, cells
separated by `` | ``). Korean press releases open with a header block (보도자료, 보도시점/보도일시,
배포, 담당 부서, 담당자) and the headline, and close with the contact table; the functions look
there first and return None when the document does not state a value.
"""
from __future__ import annotations

import re
from datetime import date

HEAD_LINES = 15  # the header block and headline are within the first lines

_YEAR_FIRST = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:[.\-/]|년)\s*(\d{1,2})\s*(?:[.\-/]|월)\s*(\d{1,2})(?!\d)\s*(?:일|\.)?")
_RELEASE_LABEL = re.compile(r"보\s*도\s*(?:시\s*점|일\s*시|일\s*자|일)|엠바고")
_DISTRIBUTION_LABEL = re.compile(r"배\s*포\s*(?:일\s*시|일\s*자|일)?")
_STANDALONE_DATE = re.compile(r"^\s*[(\[]?\s*" + _YEAR_FIRST.pattern + r"\s*(?:\([월화수목금토일]\))?\s*[)\]]?\s*$")

_JOINT = re.compile(r"관\s*계\s*부\s*처\s*합\s*동")
_BODY = r"[가-힣·]{1,20}?"
_CENTRAL = _BODY + r"(?:부|처|청|위원회|원|실)"
_LOCAL = r"[가-힣]{1,6}(?:특별시|광역시|특별자치시|특별자치도|도)(?:\s[가-힣]{1,6}(?:시|군|구))?|[가-힣]{1,6}(?:시|군|구)(?:청)?"
_HEAD_OF = r"\((?:장관|차관|처장|청장|위원장|원장|실장|시장|도지사|군수|구청장|교육감)\b"
_ISSUER_WITH_HEAD = re.compile(rf"({_CENTRAL}|{_LOCAL})\s*{_HEAD_OF}")
_ISSUER_IN_HEADER = re.compile(rf"^({_CENTRAL}|{_LOCAL})(?:\s*\|\s*|\s+)(?:보도|설명|해명)\S*자료")
_ISSUER_OF_NOTICE = re.compile(r"^(.{2,30}?)\s*(?:공고|고시|훈령|예규)\s*제\s*[\d\-]+")
_ISSUER_IN_CONTACT = re.compile(rf"({_CENTRAL}|{_LOCAL})\s+.{{0,40}}(?:연락|문의)")
# Sejong government complex numbers identify the ministry when its name is only in the logo.
_PHONE_PREFIXES = {"044-215": "기획재정부", "044-203": "문화체육관광부"}

_DEPARTMENT_LABEL = re.compile(r"담\s*당\s*부\s*서|주\s*관\s*부\s*서")
_CONTACT_LABEL = re.compile(r"담\s*당\s*자(?![가-힣])|(?:문\s*의\s*처?|연\s*락\s*처)\s*[:：|☎]")
# Labels of the contact table, where one value ends and the next label begins.
_NEXT_LABEL = re.compile(r"\s*(?:\|\s*)?(?:책\s*임\s*자|담\s*당\s*자|담\s*당\s*과\s*장|"
                         r"담\s*당\s*부\s*서|배\s*포\s*일\s*시|보\s*도\s*일\s*시)(?![가-힣])")
_PHONE = re.compile(r"\(?☎?\s*0\d{1,2}[-)]\s*\d{3,4}-\d{4}\)?")
_TITLE_SKIP = re.compile(
    r"^(?:보도\S*자료|설명\S*자료|해명\S*자료|참고\S*자료|배포|보도|붙임|별첨|첨부|목차|순서|차례)"
    r"|\bpage\b|^[-–]\s*\d+\s*[-–]$|^[□■○●◦•‣▪※*<>\[(①-⑳ㅇ\-–]|^o\s|^\d+\.\s|공고\s*제\s*\d")


def extract(text: str) -> tuple[str | None, dict]:
    """The title and metadata (``date``, ``issuer``, ``department``, ``contact``) of a release;
    keys the text does not state are left out."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    meta = {
        "date": release_date(lines),
        "issuer": issuer(lines),
        "department": department(lines),
        "contact": contact(lines),
    }
    return title(lines), {key: value for key, value in meta.items() if value}


def parse_date(text: str) -> str | None:
    """The first valid ``2026. 1. 30.``/``2024.6.21.``/``2024년 6월 21일``/``2024-06-21`` date
    in ``text`` as ISO ``YYYY-MM-DD``."""
    for match in _YEAR_FIRST.finditer(text):
        year, month, day = (int(part) for part in match.groups())
        try:
            return date(year, month, day).isoformat()
        except ValueError:
            continue
    return None


def release_date(lines: list[str]) -> str | None:
    """The release date: after a 보도시점/보도일시 label, else after 배포, else a date standing alone
    on a line near the top (plans and notices date themselves that way)."""
    head = lines[:HEAD_LINES * 2]
    for label in (_RELEASE_LABEL, _DISTRIBUTION_LABEL):
        for line in head:
            for match in label.finditer(line):
                found = parse_date(line[match.end():])
                if found:
                    return found
    for line in lines[:HEAD_LINES * 2]:
        if _STANDALONE_DATE.match(line):
            return parse_date(line)
    return None


def issuer(lines: list[str]) -> str | None:
    """The issuing body: 관계부처 합동, the body named beside 보도자료 or before 공고 제..., the
    first body introduced with its head ("기획재정부(장관 ...)"), the body in the contact line, or
    the ministry whose Sejong phone prefix the contact table uses."""
    head = lines[:HEAD_LINES]
    if any(_JOINT.search(line) for line in head):
        return "관계부처 합동"
    for pattern in (_ISSUER_IN_HEADER, _ISSUER_OF_NOTICE):
        for line in head:
            match = pattern.search(line)
            if match:
                return match.group(1).strip()
    for pattern in (_ISSUER_WITH_HEAD, _ISSUER_IN_CONTACT):
        for line in lines:
            match = pattern.search(line)
            if match:
                return match.group(1).strip()
    for line in lines:
        for prefix, body in _PHONE_PREFIXES.items():
            if prefix in line:
                return body
    return None


def _after_label(line: str, label: re.Pattern) -> str | None:
    """The value that follows ``label`` in a line: the next table cell (the rest of the row for
    contacts is up to the caller), or the words up to the next header label."""
    match = label.search(line)
    if not match:
        return None
    rest = line[match.end():].lstrip(" :：|")
    return _NEXT_LABEL.split(rest, maxsplit=1)[0].strip(" |")


def department(lines: list[str]) -> str | None:
    """The department after a 담당 부서 label; a bureau (…국) followed on the next row by its
    division (…과) gives both ("대외경제국 국제경제과")."""
    for index, line in enumerate(lines):
        value = _after_label(line, _DEPARTMENT_LABEL)
        if not value:
            continue
        name = value.split(" | ")[0] if " | " in value else " ".join(value.split()[:3])
        if re.search(r"(?:국|실|본부|관)$", name) and index + 1 < len(lines):
            below = [word for word in re.split(r"\s*\|\s*|\s+", lines[index + 1])
                     if word and not word.startswith("(")]
            if below and re.search(r"(?:과|팀|담당관)$", below[0]):
                name = f"{name} {below[0]}"
        return name
    return None


def contact(lines: list[str]) -> str | None:
    """The person to contact: what follows 담당자 or 문의: (name, rank, phone or e-mail), else
    the sentence that gives a phone number to call."""
    for line in lines:
        value = _after_label(line, _CONTACT_LABEL)
        if value:
            return " ".join(part for part in value.split(" | ") if part)
    for line in lines:
        if ("연락" in line or "문의" in line) and _PHONE.search(line):
            return line
    return None


def title(lines: list[str]) -> str | None:
    """The headline: the first line near the top that is not part of the header block, a date,
    a bullet or a body sentence. A headline broken over two paragraphs (the first ending in a
    comma or mid-phrase, the second short and starting with Hangul) is joined back."""
    for index, line in enumerate(lines[:HEAD_LINES]):
        if not _could_be_title(line):
            continue
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if _could_be_title(following) and len(following) <= 60 and (
                line.endswith(",") or (_is_hangul(following[0]) and not re.search(r"[다.!?)」』\]]$", line))):
            return f"{line} {following}"
        return line
    return None


def _could_be_title(line: str) -> bool:
    compact = re.sub(r"\s+", "", line)
    return not (" | " in line or len(compact) < 6 or len(line) > 150 or _TITLE_SKIP.search(line)
                or _STANDALONE_DATE.match(line) or line.endswith(("다.", "니다.", "함.", "음."))
                or _JOINT.fullmatch(compact))


def _is_hangul(char: str) -> bool:
    return "\uac00" <= char <= "\ud7a3"
