"""The held-out question sets (eval/heldout/) are sound: every answer is a span of its document,
and neither their questions nor their news articles overlap the development sets."""
import json
from pathlib import Path

import pytest

from bot.evaluation import ENGLISH_DEV_FILES, load_questions

ROOT = Path(__file__).resolve().parent.parent
HELDOUT = ROOT / "eval" / "heldout"
FORMATS = ROOT.parent / "shared" / "data" / "formats"
NEWS = {"news_ko": "ko", "news_en": "en"}
RELEASES = {"releases_ko": "ko", "releases_en": "en"}


def _articles() -> dict[str, str]:
    path = ROOT / "corpus" / "kowikinews" / "articles.jsonl"
    return {a["id"]: a["text"] for a in map(json.loads, path.read_text(encoding="utf-8").splitlines())}


def _check(questions, texts: dict[str, str], language: str) -> None:
    assert len({q.id for q in questions}) == len(questions)
    assert {q.lang for q in questions} == {language}
    unanswerable = [q for q in questions if q.unanswerable]
    assert 0 < len(unanswerable) < len(questions) / 3
    for q in questions:
        assert q.doc in texts, q.id
        assert bool(q.answers) != q.unanswerable, q.id
        for answer in q.answers:
            assert answer in texts[q.doc], (q.id, answer)


@pytest.mark.parametrize("name", NEWS)
def test_news_answers_are_spans_of_articles_no_development_question_uses(name):
    articles = _articles()
    questions = load_questions(HELDOUT / f"{name}.jsonl")
    _check(questions, articles, NEWS[name])
    development = [q for path in ENGLISH_DEV_FILES for q in load_questions(path)]
    assert not {q.doc for q in questions} & {q.doc for q in development}
    assert not {q.question for q in questions} & {q.question for q in development}


@pytest.mark.parametrize("name", RELEASES)
def test_release_answers_are_spans_of_the_releases_as_read(name):
    from bot.documents import read_file

    if not FORMATS.is_dir():
        pytest.skip(f"sample documents not found at {FORMATS} (shared/ beside the repo)")
    questions = load_questions(HELDOUT / f"{name}.jsonl")
    texts = {}
    for file_name in {q.doc.split("/", 1)[1] for q in questions}:
        documents, skipped = read_file(FORMATS / file_name, FORMATS)
        assert documents and not skipped, file_name
        texts[f"releases/{file_name}"] = documents[0].text
    _check(questions, texts, RELEASES[name])
