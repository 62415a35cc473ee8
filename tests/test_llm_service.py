"""The optional LLM backend inside ``Bot.ask``: used only when its answer passes the grounding
check, otherwise the extractive answer comes back with the reason. Runs against the local
chat-completions server of ``test_llm`` over the real bundled-corpus index."""
from __future__ import annotations

import pytest

from bot import Bot
from test_llm import server  # noqa: F401 (the local chat-completions server fixture)

pytestmark = pytest.mark.slow

QUESTION = "헬스케어 분야 기업은 몇 곳인가요?"


@pytest.fixture
def llm_bot(server, corpus_index, settings, embedder):  # noqa: F811
    return Bot.load(corpus_index, settings=settings.with_(llm_url=server.url, llm_timeout=5.0),
                    embedder=embedder)


def test_a_grounded_llm_answer_is_used_with_its_citations_first(llm_bot, server):  # noqa: F811
    server.reply = "헬스케어 분야 협약 기업은 8곳입니다 [1]."
    answer = llm_bot.ask(QUESTION)
    assert answer.backend == "llm", answer.backend_note
    assert answer.text == server.reply
    assert "헬스케어 분야 8" in answer.citations[0].quote
    sent = server.requests[0]["body"]["messages"][-1]["content"]
    assert "[1]" in sent and QUESTION in sent and "헬스케어 분야 8" in sent


def test_an_ungrounded_llm_answer_falls_back_to_the_extractive_one(llm_bot, corpus_bot, server):  # noqa: F811
    server.reply = "헬스케어 분야 기업은 9곳입니다 [1]."
    answer = llm_bot.ask(QUESTION)
    assert answer.backend == "extractive"
    assert "9" in answer.backend_note and "check" in answer.backend_note
    assert answer.text == corpus_bot.ask(QUESTION).text
    assert "8" in answer.text


def test_an_endpoint_error_falls_back_to_the_extractive_answer(llm_bot, server):  # noqa: F811
    server.mode = "error"
    answer = llm_bot.ask(QUESTION)
    assert answer.backend == "extractive" and "unavailable" in answer.backend_note
    assert not answer.refused and "8" in answer.text


def test_without_the_setting_no_request_is_made(corpus_bot, server):  # noqa: F811
    assert corpus_bot.settings.llm_url is None
    answer = corpus_bot.ask(QUESTION)
    assert answer.backend == "extractive" and not server.requests
