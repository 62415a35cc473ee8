"""Typed spans from kiwi morphemes: places need to be where, counts know what they count."""
from bot.question import COUNT, NUMBER, ORG, PERSON, PLACE, analyse, predicates
from bot.spans import typed_spans

VENUE = "광주광역시는 6일 오후 김대중컨벤션센터에서 ㈜지아이랩과 광주형 인공지능 비즈니스 기반 조성을 위한 업무협약을 체결했다고 밝혔다."


def _values(sentence, kind, question, **kw):
    q = analyse(question)
    return [s.value for s in typed_spans(sentence, kind, q.keywords, q.counter, True, q.counted, q.where, **kw)]


def test_a_place_is_where_not_an_object():
    values = _values(VENUE, PLACE, "협약식은 어디에서 열렸나요?")
    assert "김대중컨벤션센터" in values
    assert not any("기반 조성" in v or "광주형" in v for v in values)


def test_a_noun_made_into_an_adjective_is_no_place():
    assert _values("상황은 알파고에게 유리하게 돌아갔다.", PLACE, "대국은 어디서 열렸나요?") == []


def test_a_particle_typed_apart_still_marks_its_noun():
    values = _values("2012년 10월 13일 오후 1시에 COEX 에서 기념행사가 개최된다.", PLACE, "기념행사는 어디서 열렸나요?")
    assert values == ["COEX"]


def test_the_counted_noun_of_a_question():
    assert analyse("선수는 몇 명이야?").counted == "선수"
    assert analyse("몇 명의 선수가 참가했나?").counted == "선수"
    assert analyse("한국어 위키백과 문서 수는 몇 개야?").counted == "문서"
    assert analyse("첫 대국 몇 수 만에 끝났어?").counted is None  # no topic particle: 대국 is not counted


def test_the_words_restricting_a_korean_count_are_its_focus():
    assert analyse("보안 분야 협약 기업은 몇 개사인가요?").focus == ("보안", "분야", "협약")
    assert analyse("광주시와 협약한 AI 기업 중 빅데이터 기업은 몇 개야?").focus == ("빅데이터",)
    assert analyse("협약을 맺은 50개사 가운데 기업은 몇 개입니까?").focus == ()  # the whole, not a part
    assert analyse("광주에 사무실을 개소한 기업은 총 몇 개사입니까?").focus == ()  # a verb restricts, not a noun


def test_a_count_prefers_the_value_beside_the_counted_noun():
    sentence = "성화는 총 7명이 이어받았고, 총 91개국, 2,861명의 선수가 참여했다."
    q = analyse("선수는 몇 명이야?")
    assert q.answer_type == COUNT
    spans = typed_spans(sentence, q.answer_type, q.keywords, q.counter, True, q.counted)
    best = max(spans, key=lambda s: s.bonus)
    assert best.value == "2,861명"


def test_money_is_never_a_bare_number():
    q = analyse("예산은 몇 원인가요?")
    assert typed_spans("빅데이터 분야 28, 헬스케어 분야 8", q.answer_type, q.keywords, q.counter, True) == []


def test_a_bound_and_the_full_age_belong_to_the_value():
    sentence = "질서위반행위규제법에 따라 만 14세 미만은 과태료 부과 대상에서 예외이다."
    assert _values(sentence, COUNT, "과태료 부과 대상에서 예외인 나이는?") == ["만 14세 미만"]
    fine = "위반당사자에 10만원 이하의 과태료가 부과된다."
    assert _values(fine, NUMBER, "과태료는 얼마인가요?") == ["10만원 이하"]


def test_a_counter_inside_a_longer_word_is_another_unit():
    sentence = "서울 지하철 1호선이 멈췄고, 열차의 2호차와 10호차가 이탈한 SRT 338호 열차는 운행을 멈췄다."
    assert _values(sentence, COUNT, "탈선한 SRT 열차는 몇 호 열차였나요?") == ["338호"]
    # ... unless the question names that longer word itself (몇 대 강국: 4대강국).
    assert _values("인공지능 4대강국 대한민국을 견인하겠다.", COUNT, "인공지능 몇 대 강국이 되도록?") == ["4대"]


def test_a_score_is_a_number():
    q = analyse("U-17 여자 월드컵 결승 승부차기 스코어는?")
    assert q.answer_type == NUMBER and q.counter is None
    assert _values("승부차기까지 간 끝에 5-4로 승리를 확정지었다.", NUMBER, q.text) == ["5-4"]


def test_the_kind_asked_for_is_not_a_word_the_passage_must_say():
    q = analyse("이대호의 소속팀은?")
    assert q.answer_type == ORG and q.head == "소속팀"
    assert q.nouns == ("이대호",)
    assert analyse("광주시가 목표로 하는 도시는?").head == "도시"
    assert analyse("한국의 상대는 어느 나라였어?").head == "나라"


def test_a_noun_asked_about_with_mwo_keeps_its_type():
    q = analyse("세종시 전화 지역번호는 뭐야?")
    assert q.answer_type == NUMBER
    money = analyse("국립경주박물관 특별전 입장료는 얼마야?")
    assert money.answer_type == NUMBER and money.counter == "원"


def test_the_verbs_of_a_question():
    assert predicates("이순신 동상 보수 공사는 언제 끝날 예정인가요?") == ("끝나",)
    assert predicates("헬스케어 기업은 몇 곳이 협약했나요?") == ("협약",)
    assert predicates("협약식은 어디서 열렸나요?") == ("열리",)


def test_a_keyword_matches_the_compound_kiwi_keeps_whole():
    from bot.answering import _among
    from bot.lexical import tokens

    present = set(tokens("음성인식 및 자연어처리 3, 로봇분야 2, 산업안전 1개 기업 등이다."))
    assert "로봇" not in present and _among("로봇", present)  # 로봇분야 is one token
    assert _among("처음", set(tokens("최초의 협약을 체결했다")))  # a word written for it
    assert not _among("보안", present)


def test_the_verb_a_value_belongs_to_is_the_first_predicate_after_it():
    from bot.spans import predicate_end
    sentence = "광주시는 인코어드P&P와 첫 협약을 체결한 이후 50번째 협약을 맺었다."
    end = predicate_end(sentence, sentence.index("인코어드"))
    assert "체결" in sentence[sentence.index("협약을"):end] and end <= sentence.index("이후")
    # No verb in reach: eight characters after the value.
    assert predicate_end("헬스케어 분야 8", 0) == 8


def test_an_english_count_reads_the_whole_noun_phrase():
    # The counted noun may be the third word; the words before it restrict it.
    q = analyse("How many industrial safety companies signed?")
    assert (q.counted, q.focus, q.counter) == ("기업", ("industrial", "safety"), None)
    assert analyse("How many of the institutions signed?").counted == "기관"
    assert analyse("How many passengers were on board?").counter == "명"


def test_how_many_is_not_answered_by_an_ordinal_or_a_time():
    sentence = "제24회 대회는 21시에 열렸고, 50번째 협약으로 총 91개국이 참가했다."
    q = analyse("How many countries took part?")
    spans = typed_spans(sentence, q.answer_type, q.keywords, q.counter, True, q.counted)
    best = max(spans, key=lambda s: s.bonus)
    assert best.value == "91개국"  # 국 names countries: the counted bonus, 번째/제N회/N시 a penalty
    assert {s.value for s in spans if s.bonus < 0} == {"24회", "21시", "50번째"}


def test_who_is_a_named_person_asks_for_the_role_beside_the_name():
    q = analyse("김정태는 누구인가요?")
    assert (q.answer_type, q.keywords) == ("role", ("김정태",))
    sentence = "한편 이날 협약식에서는 AI유치기업협의체 대표로 김정태 사무국장이 50번째 업무협약을 축하하는 메시지를 발표했다."
    roles = typed_spans(sentence, q.answer_type, q.keywords, None)
    assert [(s.value, s.bonus) for s in roles] == [("사무국장", 0.3), ("AI유치기업협의체 대표", 0.2)]
    assert [s.value for s in typed_spans("전창호 ㈜지아이랩 대표는 말했다.", "role", ("전창호",), None)] == ["㈜지아이랩 대표"]
    # A question that names more than a person is no such question.
    assert analyse("축하 메시지를 발표한 사람은 누구인가요?").answer_type == "person"


def test_an_english_percentage_is_answered_only_by_a_percentage():
    q = analyse("What percentage of union members voted for the strike in 2016?")
    assert (q.answer_type, q.counter) == (NUMBER, "%")
    sentence = "2016년 금융노조는 조합원 95.7%의 찬성으로 총파업을 가결했고 2016 사업계획도 냈다."
    assert _values(sentence, q.answer_type, q.text) == ["95.7%"]
    assert analyse("By how much did electricity prices go up?").answer_type == NUMBER


def test_how_many_years_is_a_length_of_time_not_a_year():
    q = analyse("How many years did Nelson Mandela spend in prison?")
    assert (q.answer_type, q.counter) == (COUNT, "년")
    sentence = "넬슨 만델라 전 대통령은 1918년 태어나 27년간 감옥에 있었다."
    spans = typed_spans(sentence, q.answer_type, q.keywords, q.counter, True, q.counted)
    assert max(spans, key=lambda s: s.bonus).value == "27년간"


def test_a_list_of_one_syllable_abbreviations_is_no_place():
    # 산·학·연 is industry, academia and research, not a mountain (산) where something happened.
    sentence = "㈜지아이랩은 산·학·연 연계 광주형 인공지능 1호 합작회사로 설립된 기업이다."
    assert _values(sentence, PLACE, "Where was the agreement signed?") == []
    q = analyse("How many hours did the meeting last?")
    assert _values("회의는 오후 2시에 시작해 3시간 동안 이어졌다.", q.answer_type, q.text) == ["3시간 동안"]


def test_a_how_many_question_is_not_answered_by_a_day():
    q = analyse("How many agreements has Gwangju signed?")
    assert q.answer_type == COUNT and q.counter is None
    values = [s.value for s in typed_spans(VENUE, COUNT, q.keywords, q.counter, True, q.counted)]
    assert "6일" not in values
    # a length of time still counts
    assert [s.value for s in typed_spans("협상은 27일간 이어졌다.", COUNT, (), None)] == ["27일간"]


def test_a_how_many_question_without_counter_skips_compounds_and_marks_down_ordinals():
    sentence = "인공지능 중심도시 광주가 인공지능 4대강국을 견인하고, 광주형 인공지능 1호 합작회사와 50개 기업이 함께 한다."
    spans = {s.value: s.bonus for s in typed_spans(sentence, COUNT, (), None)}
    assert "4대" not in spans  # 4대강국: the four great powers, a word of its own
    assert spans["1호"] < spans["50개"]


def test_the_kind_of_a_body_alone_is_no_name_of_one():
    sentence = "광주시는 지금까지 총 50개의 인공지능 기관·기업과 업무협약을 체결했다."
    values = _values(sentence, ORG, "광주시와 업무협약을 체결한 회사는 어디입니까?")
    assert "기업" not in values and "기관" not in values
    assert "김대중컨벤션센터" in _values(VENUE, PLACE, "협약식은 어디에서 열렸나요?")


def test_a_how_many_question_is_not_answered_by_money():
    sentence = "판매가는 각각 1만6천엔이며, 이틀 동안 총 23만 3천대가 팔렸다."
    q = analyse("How many consoles sold in the first two days?")
    values = [s.value for s in typed_spans(sentence, COUNT, q.keywords, q.counter, True, q.counted)]
    assert "1만6천엔" not in values and "23만 3천대" in values
    # how much still asks for money
    assert "1만6천엔" in [s.value for s in typed_spans(sentence, NUMBER, (), None)]


def test_a_figure_of_another_year_and_a_date_that_repeats_the_question():
    from bot.answering import _another_year, _only_given_numbers

    sentence = "환자 수가 2003년 1,415명에 비해 2011년 5,151명으로 늘었다."
    question = "How many scrub typhus patients did South Korea have in 2011?"
    assert _another_year(sentence, sentence.index("1,415명"), question)
    assert not _another_year(sentence, sentence.index("5,151명"), question)
    assert not _another_year(sentence, sentence.index("1,415명"), "How many patients were there?")
    asked = "From what date did IANA stop handing out addresses in 2011?"
    assert _only_given_numbers("2011년", asked) and not _only_given_numbers("2011년 2월 4일", asked)


def test_a_place_and_its_office_read_as_one_noun_ask_for_a_person():
    from bot.question import PERSON, ROLE

    q = analyse("광주시장은 누구인가요?")
    assert q.answer_type == PERSON and q.keywords == ("광주", "시장")
    assert analyse("이용섭은 누구인가요?").answer_type == ROLE


def test_a_common_noun_after_a_role_is_no_name():
    # 선거 and 정권 start with a surname syllable (선, 정) but are dictionary nouns, not names.
    values = lambda s: [x.value for x in typed_spans(s, PERSON, (), None)]
    assert values("제14대 대통령 선거에서 김영삼 후보가 당선되었다.") == ["김영삼"]
    assert "정권" not in values("명성황후의 사치와 민씨 정권의 매관매직을 비판했다.")
    assert values("AI유치기업협의체 대표로 김정태 사무국장이 축하 메시지를 발표했다.") == ["김정태"]
    assert values("장관 이주호는 말했다.") == ["이주호"]


def test_what_kind_of_company_asks_for_a_description_and_which_company_for_a_name():
    from bot.question import ROLE, THING
    assert analyse("지아이랩은 어떤 회사인가요?").answer_type == THING
    assert analyse("어떤 회사가 협약했나요?").answer_type == ORG
    assert analyse("김정태는 어떤 사람이야?").answer_type == ROLE  # as 김정태는 누구야?
    assert analyse("광주시가 목표로 하는 도시는 어떤 도시인가요?").answer_type == PLACE


def test_an_english_count_restricted_at_its_end():
    assert analyse("How many firms work in security?").focus == ("security",)
    assert analyse("How many companies are in the big data sector?").focus == ("big", "data")
    assert analyse("How many healthcare companies signed?").focus == ("healthcare",)
