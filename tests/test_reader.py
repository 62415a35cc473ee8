"""The trained reader: the committed file is the one its model card describes, it reproduces the
card's KorQuAD figure, finds spans across languages and abstains on a passage without the answer."""
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEIGHTS = ROOT / "weights" / "reader.safetensors"
CARD = json.loads((ROOT / "weights" / "reader.json").read_text(encoding="utf-8"))
KORQUAD = ROOT.parent / "shared" / "data" / "korquad1" / "KorQuAD_v1.0_dev.json"

SEED_PASSAGE = ("광주시에 따르면 이번 협약에 참여한 인공지능 기업은 빅데이터 분야 28, 헬스케어 분야 8, "
                "자동차 분야 6, 보안 분야 4, 음성인식 및 자연어처리 3, 로봇분야 2, 산업안전 1개사 등이다.")
UNRELATED = ("서울시는 올해 겨울 폭설에 대비해 제설제 3만 톤을 확보하고 제설 차량 1,200대를 "
             "자치구별로 배치했다고 밝혔다.")


def test_the_committed_file_is_the_one_the_model_card_describes():
    from bot.qa.train import sha256

    assert sha256(WEIGHTS) == CARD["sha256"]
    assert WEIGHTS.stat().st_size == CARD["bytes"] < 30 * 1024 * 1024
    card = (ROOT / "weights" / "README.md").read_text(encoding="utf-8")
    assert CARD["sha256"] in card


@pytest.mark.slow
def test_the_committed_weights_reproduce_the_card_on_the_korquad_test_sample(reader):
    from bot.qa.data import KORQUAD_TEST, read_squad
    from bot.qa.train import card_sample, gold_scores

    sample = card_sample(read_squad(KORQUAD, "ko", KORQUAD_TEST, "korquad-"))
    assert len(sample) == 200
    measured = gold_scores(reader, sample)
    expected = CARD["korquad_test_gold_card_sample"]
    assert measured["char_f1"] == pytest.approx(expected["char_f1"], abs=0.01)
    assert measured["exact_match"] == pytest.approx(expected["exact_match"], abs=0.02)


@pytest.mark.slow
def test_a_korean_question_gets_the_span_with_exact_offsets(reader):
    reading = reader.read("헬스케어 분야 기업은 몇 개인가요?", [SEED_PASSAGE])[0]
    span = reading.best
    assert span is not None and SEED_PASSAGE[span.start:span.end] == span.text
    assert "8" in span.text and "28" not in span.text


@pytest.mark.slow
def test_an_english_question_over_a_korean_passage_gets_its_span(reader):
    span = reader.read("How many companies in the big data field joined the agreement?", [SEED_PASSAGE])[0].best
    assert span is not None and "28" in span.text


@pytest.mark.slow
def test_the_reader_abstains_on_a_passage_that_does_not_answer(reader, settings):
    question = "헬스케어 분야 기업은 몇 개인가요?"
    answering, unrelated = reader.read(question, [SEED_PASSAGE, UNRELATED])
    assert unrelated.best is None or unrelated.best.margin < settings.reader_threshold
    assert answering.best.margin >= settings.reader_threshold
