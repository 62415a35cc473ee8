"""The years a question asks about and the years a document speaks of (pure, no IO): a question
that gives a year is answered only from a document about that year."""
from __future__ import annotations

import re

CALENDAR_YEAR = re.compile(r"(1[5-9]|20)\d\d")  # 1918, 2011: a year, not a length
# A year written alone: not part of a longer figure (2,013 or 1.2015).
_YEAR = re.compile(rf"(?<![\d.,])({CALENDAR_YEAR.pattern})(?![\d.,]\d)")
# Words that put a document's text in the year before or after its own date.
_LAST_YEAR = re.compile(r"지난해|작년|전년")
_NEXT_YEAR = re.compile(r"내년|이듬해")


def years_asked(text: str) -> tuple[str, ...]:
    """The calendar years a question gives (2030 of "Who won the 2030 World Cup?")."""
    return tuple(dict.fromkeys(_year_matches(text)))


def years_stated(text: str, date: str | None = None) -> frozenset[str]:
    """The years a document can be said to speak of: those it writes (2017, 17년 after its
    century), the year of its date, and the year before or after that when it says 지난해 or
    내년 (인코어드P&P와 첫 협약을 체결한 지난해 10월, in a release of 2020-11: 2019)."""
    found = set(_year_matches(text))
    if date and re.match(r"\d{4}", date):
        year = int(date[:4])
        found.add(str(year))
        if _LAST_YEAR.search(text):
            found.add(str(year - 1))
        if _NEXT_YEAR.search(text):
            found.add(str(year + 1))
        century = str(year)[:2]
        found.update(century + short for short in re.findall(r"(?<![\d.])'?(\d\d)년", text))
    return frozenset(found)


def may_be_about(sentence: str, years) -> bool:
    """Whether a sentence can state a value for ``years`` (a question's): it writes one of them, or
    no year at all ("2025년 2분기 ... 141.5억 달러" is no value for 2024)."""
    written = _year_matches(sentence)
    return not years or not written or any(year in written for year in years)


def _year_matches(text: str) -> list[str]:
    return [m.group(0) for m in _YEAR.finditer(text)]
