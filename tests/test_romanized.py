"""Korean names written in Latin letters, read back into Hangul against the corpus (pure)."""
from bot.romanized import NamePrefixes, read_names, readings

CORPUS = ["한상대 검찰총장은 30일 사퇴를 발표했다.", "문재인 후보가 선출되었다.", "이태원 참사 이후 용산소방서장이 입건됐다.",
          "연평도 주민에게 급식을 제공했다.", "7월 줄이기 운동"]
PREFIXES = NamePrefixes(CORPUS)
ENGLISH = frozenset({"july", "who", "when", "the"})


def korean_names(text, prefixes, skip):
    return [name for name, _ in read_names(text, prefixes, skip)]


def test_a_hyphenated_given_name_is_read_with_its_surname():
    assert korean_names("When did Prosecutor General Han Sang-dae resign?", PREFIXES, ENGLISH) == ["한상대"]
    assert korean_names("Who came second behind Moon Jae-in?", PREFIXES, ENGLISH) == ["문재인"]


def test_a_place_is_cut_into_syllables_and_the_corpus_decides_the_reading():
    # Yongsan could be 영산 (yo as ㅕ) or 용산; Itaewon 이대원 or 이태원: only the second begins a word here,
    # and the regular reading (t is ㅌ, yo is ㅛ) comes first.
    names = korean_names("Who is the Yongsan fire chief booked after the Itaewon crush?", PREFIXES, ENGLISH)
    assert names == ["용산", "이태원"]
    assert korean_names("meals on Yeonpyeong Island", PREFIXES, ENGLISH) == ["연평"]


def test_english_words_and_readings_absent_from_the_corpus_give_nothing():
    # July would read 줄이, which the corpus has: it is named English and skipped.
    assert korean_names("What happened in July 2020?", PREFIXES, ENGLISH) == []
    assert korean_names("Who is Nelson Mandela?", PREFIXES, ENGLISH) == []
    assert "재인" in readings("Jae-in") and readings("xyz") == []
