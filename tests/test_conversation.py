"""Follow-ups rewritten from the previous turn: kiwi morphemes, and the real model's similarity
for which noun a fragment stands for."""
import pytest

from bot.conversation import points_back, resolve
from bot.records import Answer


def _turn(question, rewritten=None):
    return (question, Answer(question=question, text="", refused=False, rewritten_question=rewritten))


def test_a_fragment_replaces_the_noun_it_shares_a_head_with():
    history = [_turn("헬스케어 분야 기업은 몇 곳인가요?")]
    assert resolve("그럼 자동차 분야는?", history) == "자동차 분야 기업은 몇 곳인가요?"


@pytest.mark.slow
def test_a_third_turn_varies_what_the_second_varied(embedder):
    # 보안은? after 헬스케어 -> 자동차 분야 replaces 자동차; the model alone finds 보안 nearer 분야
    # (자동차 보안 기업은 몇 곳, answered 50개사).
    def similarity(word, candidates):
        vectors = embedder.encode_queries([word, *candidates])
        return (vectors[1:] @ vectors[0]).tolist()

    history = [_turn("헬스케어 분야 기업은 몇 곳인가요?"),
               _turn("그럼 자동차 분야는?", "자동차 분야 기업은 몇 곳인가요?")]
    assert resolve("보안은?", history, similarity) == "보안 분야 기업은 몇 곳인가요?"
    # A fragment after a question that was no follow-up is matched by the model: 승무원 ~ 승객.
    assert resolve("승무원은?", [_turn("아시아나 여객기 승객은 몇 명인가요?")], similarity) == \
        "아시아나 여객기 승무원은 몇 명인가요?"


def test_a_question_with_its_own_topic_stands_alone():
    history = [_turn("헬스케어 분야 기업은 몇 곳인가요?")]
    assert resolve("이용섭 광주시장은 무엇을 약속했나요?", history) is None


def test_an_english_question_after_a_korean_turn_stands_alone():
    # Seen in the kiosk: it was taken for a fragment and joined to the Korean question before it.
    history = [_turn("업무협약은 언제 체결되었습니까?")]
    assert resolve("Who is the CEO of GI Lab?", history) is None
    assert resolve("Tell me who runs GI Lab", history) is None
    english = [_turn("How many healthcare companies signed?")]
    assert resolve("Where was the agreement signed?", english) is None
    assert resolve("robotics?", english) == "How many robotics companies signed?"


def test_an_english_question_that_points_back_carries_the_previous_topic():
    # Seen in the kiosk: "these companies" stood alone and was answered from another article.
    korean = [_turn("협약을 맺은 50개사 가운데 기업은 몇 개입니까?")]
    assert resolve("How many people have these companies hired?", korean) == \
        "How many people have these companies hired? (협약을 맺은 50개사 가운데 기업)"
    english = [_turn("How many healthcare companies signed?")]
    assert resolve("Where did they sign it?", english) == "Where did they sign it? (healthcare companies signed)"
    # No pronoun pointing back: a question of its own, even one that says "this year".
    assert resolve("How many companies signed this year?", english) is None
    assert not points_back("Who is the CEO of GI Lab?") and points_back("When was its office opened?")
