"""The reader's synthetic enumerations: exact answer offsets, disjoint training and development
items, seeded, and none of the evaluated release's own fields."""
from pathlib import Path

from bot.qa.synthetic import KINDS, enumerations, split_items

FILLER = ["광주시는 6일 인공지능 산업 육성 계획을 발표했다. 시는 올해 예산을 늘리기로 했다고 밝혔다.",
          "이 사업은 내년까지 이어진다. 참여를 원하는 기관은 다음 달까지 신청하면 된다."]


def test_every_answer_is_the_passage_text_at_its_offset():
    train, _ = split_items(7)
    examples = enumerations(300, 3, train, FILLER)
    answerable = [e for e in examples if e.answer_start >= 0]
    assert 0.7 < len(answerable) / len(examples) < 0.95
    for e in answerable:
        assert e.context[e.answer_start:e.answer_start + len(e.answer_text)] == e.answer_text
        assert e.answer_text[0].isdigit() and e.answers == (e.answer_text,)
    assert {e.language for e in examples} == {"ko", "en"}


def test_unanswerable_questions_ask_for_an_item_the_list_does_not_hold():
    train, _ = split_items(7)
    names = [ko for items in train.values() for ko, _ in items]
    for e in enumerations(200, 5, train, FILLER):
        if e.answer_start < 0:
            asked = [n for n in names if n in e.question]
            assert asked and all(n not in e.context for n in sorted(asked, key=len)[-1:])


def test_development_items_are_disjoint_from_training_items_and_runs_repeat():
    train, dev = split_items(20261206)
    for kind in KINDS:
        assert not set(train[kind]) & set(dev[kind]) and len(dev[kind]) >= 5
    assert enumerations(50, 1, train, FILLER) == enumerations(50, 1, train, FILLER)


def test_no_field_of_the_evaluated_release_is_generated():
    seed = (Path(__file__).resolve().parents[2] / "shared" / "data" / "seed" / "gwangju-gilab-mou-2020-11.txt")
    line = next(t for t in seed.read_text(encoding="utf-8").splitlines() if "분야별로는" in t)
    for ko, _ in KINDS["field"]:
        assert f"{ko} 분야" not in line and f"{ko}분야" not in line and f" {ko} " not in line
