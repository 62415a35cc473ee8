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
