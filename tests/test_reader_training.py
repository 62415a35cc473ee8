"""Training the reader: a step that starts from the frozen layers' computed outputs sees the same
logits as the whole model, so caching them changes the cost of a step, not what it learns from."""
import torch
from transformers import AutoTokenizer, BertForQuestionAnswering

from bot.qa.data import Example, windows
from bot.qa.reader import MAX_LENGTH, STRIDE, pad
from bot.qa.train import TrainConfig, _frozen_outputs, _trainable, _upper_logits

PASSAGES = [
    "광주광역시는 6일 오후 김대중컨벤션센터에서 지아이랩과 50번째 인공지능 기업 유치 업무협약을 체결했다.",
    "협약 기업은 분야별로 빅데이터 28개사, 헬스케어 8개사, 자동차 6개사다. " * 12,
]


def test_the_cached_frozen_layers_give_the_whole_models_logits(model_dir):
    torch.manual_seed(0)
    config = TrainConfig(train_layers=6, bf16=False)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    model = _trainable(BertForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True), config)
    examples = [Example(str(i), "협약은 언제 체결됐나?", p, -1, "", (), str(i), "ko") for i, p in enumerate(PASSAGES)]
    feats = windows(tokenizer, examples, MAX_LENGTH, STRIDE)
    assert len({len(w.input_ids) for w in feats}) > 1  # rows of different lengths, padded together
    lower = _frozen_outputs(model, config, feats, tokenizer.pad_token_id)
    ids, mask = pad([w.input_ids for w in feats], tokenizer.pad_token_id)
    model.eval()
    with torch.no_grad():
        whole = model(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask))
        start, end = _upper_logits(model, config, [lower[id(w)] for w in feats], torch.tensor(mask))
    # The cached rows are stored in bfloat16: agreement to a few percent of the logits' spread
    # (a cache cut one layer off differs by about their whole spread).
    tolerance = 0.05 * float(whole.start_logits.std())
    for j, w in enumerate(feats):
        n = len(w.input_ids)
        assert float((start[j, :n] - whole.start_logits[j, :n]).abs().max()) < tolerance
        assert float((end[j, :n] - whole.end_logits[j, :n]).abs().max()) < tolerance
        assert int(start[j, :n].argmax()) == int(whole.start_logits[j, :n].argmax())
        assert bool((start[j, n:] < -1e3).all())  # padding gets no probability


def test_a_file_of_int8_differences_assembles_into_the_trained_weights(model_dir, tmp_path):
    from safetensors.torch import save_file

    from bot.qa.assemble import assemble_model, pack_int8_deltas

    torch.manual_seed(0)
    base = BertForQuestionAnswering.from_pretrained(str(model_dir), local_files_only=True).state_dict()
    names = ["bert.encoder.layer.11.attention.self.query.weight", "bert.encoder.layer.11.output.dense.weight"]
    trained = {name: (base[name] + 0.01 * torch.randn_like(base[name])).half() for name in names}
    trained["bert.encoder.layer.11.output.LayerNorm.weight"] = (base["bert.encoder.layer.11.output.LayerNorm.weight"]
                                                                 * 1.1).half()
    trained["qa_outputs.weight"] = torch.randn(2, 384).half()
    packed = pack_int8_deltas(trained, base)
    assert packed[names[0] + ".delta_int8"].dtype == torch.int8 and names[0] not in packed
    assert packed["qa_outputs.weight"].dtype == torch.float16  # the head is not in the base: whole
    whole, small = tmp_path / "whole.safetensors", tmp_path / "small.safetensors"
    save_file(trained, str(whole), metadata={"format": "bot-reader-1"})
    save_file(packed, str(small), metadata={"format": "bot-reader-1"})
    assert small.stat().st_size < 0.6 * whole.stat().st_size
    from_whole = assemble_model(model_dir, whole).state_dict()
    from_small = assemble_model(model_dir, small).state_dict()
    for name in names:
        error = (from_small[name] - from_whole[name]).abs().max()
        # within half an int8 step of the difference, far below the change trained (0.01 a weight)
        assert float(error) <= float((from_whole[name] - base[name]).abs().max()) / 254 + 1e-6
        assert float((from_small[name] - base[name]).abs().mean()) > 0.005
    for name in ("qa_outputs.weight", "bert.encoder.layer.11.output.LayerNorm.weight"):
        assert torch.equal(from_small[name], from_whole[name])


def test_a_passage_without_its_answer_keeps_the_topic_and_loses_every_sentence_with_the_answer():
    from bot.qa.data import without_answer

    context = ("광주광역시는 6일 오후 김대중컨벤션센터에서 지아이랩과 50번째 인공지능 기업 유치 업무협약을 체결했다. "
               "협약에 참여한 기업은 빅데이터 28개사, 헬스케어 8개사, 자동차 6개사 등이다. "
               "이용섭 광주시장은 인공지능 산업 생태계를 키우겠다고 말했다. "
               "지아이랩은 본사를 광주로 옮기고 연구소를 세울 계획이다.")
    answer = "김대중컨벤션센터"
    example = Example("q1", "협약식은 어디서 열렸나?", context, context.index(answer), answer, (answer,), "p1", "ko")
    pair = without_answer(example)
    assert pair.answer_start == -1 and pair.answers == () and answer not in pair.context
    assert "28개사" in pair.context and "지아이랩은 본사를" in pair.context
    assert pair.passage_id != example.passage_id
    # An answer that is also in another sentence makes no unanswerable pair.
    twice = context + " 행사는 김대중컨벤션센터 3층에서 열렸다."
    assert without_answer(Example("q2", "어디서?", twice, twice.index(answer), answer, (answer,), "p2", "ko")) is None
    # Nor does a passage with too little left.
    short = context.split(". ")[0] + ". 끝이다."
    assert without_answer(Example("q3", "어디서?", short, short.index(answer), answer, (answer,), "p3", "ko")) is None


def test_the_english_questions_ask_over_the_korean_passages_with_exact_answers():
    import re

    from bot.qa.train import CROSS_DEV, load_sets

    sets = load_sets(english=False)
    train, dev = sets["tydi_ko_en"], sets["tydi_ko_en_dev"]
    korean = {e.qid: e for e in sets["tydi_ko"]}
    assert len(train) + len(dev) == len(korean) and len(dev) == CROSS_DEV
    assert not {e.passage_id for e in train} & {e.passage_id for e in dev}  # the check is never trained on
    for e in train + dev:
        original = korean[e.qid.removeprefix("en:")]
        assert e.language == "en" and not re.search("[가-힣]", e.question) and e.question != original.question
        assert e.context == original.context
        assert e.context[e.answer_start:e.answer_start + len(e.answer_text)] == e.answer_text == original.answer_text


def test_the_written_english_questions_train_on_training_articles_and_check_on_tune_articles():
    import re

    from bot.qa.data import KORQUAD_TRAIN, KORQUAD_TUNE
    from bot.qa.train import load_sets

    sets = load_sets(english=False)
    train, check = sets["korquad_en"] + sets["korquad_en_more"], sets["korquad_tune_en"]
    unanswerable = sets["korquad_en_more_unanswerable"]
    article = lambda e: int(e.passage_id.split("-")[1])  # noqa: E731
    assert len(train) >= 1800 and {article(e) for e in train + unanswerable} <= set(KORQUAD_TRAIN)
    assert len(check) >= 200 and {article(e) for e in check} <= set(KORQUAD_TUNE)
    for e in train + check:
        assert e.language == "en" and not re.search("[가-힣]", e.question)
        assert e.context[e.answer_start:e.answer_start + len(e.answer_text)] == e.answer_text == e.answers[0]
        assert e.answer_text and e.answer_text.strip() == e.answer_text and e.answer_text not in e.question
    # One question per paragraph that the paragraph does not answer, over the paragraphs of the second file.
    assert len(unanswerable) == len({e.passage_id for e in sets["korquad_en_more"]}) >= 370
    assert all(e.answer_start < 0 and not e.answers and not re.search("[가-힣]", e.question) for e in unanswerable)


def test_the_written_tydi_questions_leave_the_held_out_translated_passages_alone():
    import re

    from bot.qa.train import load_sets

    sets = load_sets(english=False)
    held_out = {e.passage_id for e in sets["tydi_ko_en_dev"]}
    written = sets["tydi_en_more"] + sets["tydi_en_more_unanswerable"]
    assert len({e.passage_id for e in written}) >= 900 and not held_out & {e.passage_id for e in written}
    for e in sets["tydi_en_more"]:
        assert e.language == "en" and not re.search("[가-힣]", e.question)
        assert e.context[e.answer_start:e.answer_start + len(e.answer_text)] == e.answer_text == e.answers[0]
        assert e.answer_text.strip() == e.answer_text and e.answer_text not in e.question


def test_written_questions_may_ask_what_their_passage_does_not_say(tmp_path):
    import json

    import pytest

    from bot.errors import BadDocument
    from bot.qa.data import read_written

    context = "광주시는 6일 김대중컨벤션센터에서 지아이랩과 인공지능 사업 협약을 맺었다."
    start = context.index("김대중컨벤션센터")
    rows = [{"paragraph_id": "p", "question": "Where was the agreement signed?", "start": start, "end": start + 8},
            {"paragraph_id": "p", "question": "How many people attended?", "start": None, "end": None}]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    answered, unanswerable = read_written(path, {"p": context}, "en")
    assert answered.answer_text == "김대중컨벤션센터" and answered.answer_start == start
    assert unanswerable.answer_start == -1 and unanswerable.answers == () and unanswerable.context == context
    path.write_text(json.dumps({"paragraph_id": "p", "question": "?", "start": None, "end": 3}) + "\n",
                    encoding="utf-8")
    with pytest.raises(BadDocument, match="questions.jsonl:1"):
        read_written(path, {"p": context}, "en")


def test_a_translated_question_keeps_its_originals_unanswerable_passage():
    from bot.qa.data import Example, unanswerable
    from bot.qa.train import _translated_negatives

    original = Example("q1", "협약은 언제?", "6일 오후 체결했다.", 0, "6일 오후", ("6일 오후",), "p1", "ko")
    english = Example("en:q1", "When was it signed?", original.context, 0, "6일 오후", ("6일 오후",), "p1", "en")
    negative = unanswerable(original, "다른 기사의 문단이다.", "p9")
    [pair] = _translated_negatives([english], [negative, unanswerable(Example("q2", "", "", 0, "", (), "p2", "ko"),
                                                                      "x", "p3")])
    assert (pair.question, pair.context, pair.answer_start, pair.passage_id) == \
        ("When was it signed?", "다른 기사의 문단이다.", -1, "p9")
