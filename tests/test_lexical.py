"""The Korean keyword side: content morphemes, numbers, and BM25 rankings."""
from bot.lexical import LexicalIndex, tokens


def test_particles_and_endings_are_dropped_content_is_kept():
    assert tokens("헬스케어 분야 기업은 몇 개인가?") == ["헬스케어", "분야", "기업", "개"]


def test_numbers_are_normalised_and_latin_lowercased():
    assert tokens("1,100만 원") == tokens("1100만원") == ["1100", "만", "원"]
    assert tokens("GIST와 AI") == ["gist", "ai"]


def test_bm25_ranks_the_passage_sharing_the_rare_word_first():
    passages = ["광주시는 인공지능 기업과 협약을 맺었다.",
                "헬스케어 분야 기업은 8곳이다.",
                "자동차 분야 기업은 6곳이다."]
    index = LexicalIndex.build(passages)
    scores = index.scores("헬스케어 기업은 몇 곳?")
    assert list(scores.argsort()[::-1]) == [1, 2, 0]
    assert index.scores("완전히 무관한 단어").max() == 0


def test_bigrams_rank_the_passage_that_repeats_the_questions_phrase_first():
    # Both passages hold 업무, 협약 and 체결; only the first says them as the question does.
    passages = ["광주시는 업무협약을 체결했고 기업 지원을 밝혔다.",
                "업무 지원과 협약 기업의 체결 대상을 밝혔다."]
    index = LexicalIndex.build(passages)
    scores = index.scores("업무협약 체결")
    assert scores[0] > scores[1] > 0
    assert "업무_협약" not in index.vocabulary  # bigrams never reach the English glossary


def test_with_bigrams_skips_pairs_holding_a_frame_word():
    from bot.lexical import with_bigrams

    assert with_bigrams(["협약식", "장소", "어디"], frozenset({"장소", "어디"})) == ["협약식", "장소", "어디"]
    assert with_bigrams(["업무", "협약"]) == ["업무", "협약", "업무_협약"]
