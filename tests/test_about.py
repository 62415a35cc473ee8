"""Questions about a document itself (its reporter, outlet, date, e-mail), answered from its byline."""
import pytest

from bot import about
from bot.records import Document

SEED = "gwangju-gilab-mou-2020-11"


@pytest.mark.parametrize("question,language,field", [
    ("이 기사를 쓴 기자는 누구야?", "ko", "reporter"),
    ("기사를 낸 언론사는 어디입니까?", "ko", "source"),
    ("기자 이메일 주소 알려줘", "ko", "email"),
    ("이 보도는 몇 년 몇 월 기사인가요?", "ko", "date"),
    ("Who wrote the article?", "en", "reporter"),
    ("Which newspaper published the article?", "en", "source"),
    ("When was the article published?", "en", "date"),
    ("이 기사는 어느 신문 기사인가요?", "ko", "source"),
    ("Which newspaper reported this?", "en", "source"),  # "this" names the document
    ("Who is the reporter?", "en", "reporter"),  # nothing but the field: the document's
    ("Who wrote this?", "en", "reporter"),
])
def test_questions_about_the_document_name_their_field(question, language, field):
    assert about.asked_field(question, language) == field


@pytest.mark.parametrize("question,language", [
    ("협약식은 언제 열렸나요?", "ko"),  # the event's date, not the article's
    ("기자회견은 어디서 열렸나?", "ko"),
    ("경향신문 기사는 무엇을 보도했나?", "ko"),
    ("이 기사에서 협약한 회사는?", "ko"),
    ("천안함 침몰 사건을 북한의 타격으로 볼 수 없다고 보도한 신문사는?", "ko"),  # a report the content tells of
    ("2017년 K-pop의 돌파구에 대한 기사를 쓴 매체는?", "ko"),
    ("그루의 첫 싱글을 OST로 쓴 영화의 제목은?", "ko"),  # 싱글 is no 글
    ("When was the agreement signed?", "en"),
    ("What did the article say about healthcare?", "en"),
    ("어느 신문이 천안함 침몰을 보도했나?", "ko"),  # no document pointed at
    ("Who is the reporter who covered the Sewol ferry sinking?", "en"),  # a reporter in the news
    ("Who reported the crash?", "en"),
    ("When was the agreement signed?", "en"),
])
def test_questions_about_content_are_left_to_the_answerer(question, language):
    assert about.asked_field(question, language) is None


def test_fields_are_located_in_the_byline():
    text = "제목\n\n[아시아경제 호남취재본부 박선강 기자] 본문.\n\n박선강 기자 skpark82@asiae.co.kr"
    doc = Document("d", "제목", text, date="2020-11", source="아시아경제", meta={"reporter": "박선강"})
    reporter = about.field_of(doc, "reporter")
    assert text[reporter.start:reporter.end] == "박선강" and reporter.start == text.index("박선강")
    email = about.field_of(doc, "email")
    assert email.value == "skpark82@asiae.co.kr" and text[email.start:email.end] == email.value
    assert about.field_of(doc, "date").value == "2020-11"
    assert about.quote_bounds(text, reporter.start, reporter.end) == (4, text.index("\n\n박선강"))


def test_this_article_is_the_conversations_document_else_the_press_material():
    press = Document("press", "보도", "[아시아경제 박선강 기자] 본문", date="2020-11", source="아시아경제",
                     meta={"reporter": "박선강"})
    wiki = Document("wiki", "위키", "본문", date="2021-01-01", source="ko.wikinews")
    documents = {"press": press, "wiki": wiki}
    assert about.choose_document(documents, "date", ["wiki", "press"], None) is press
    assert about.choose_document(documents, "date", ["wiki"], "wiki") is wiki
    assert about.choose_document(documents, "reporter", ["wiki"], "wiki") is press  # wiki has none
    assert about.choose_document({"wiki": wiki}, "reporter", ["wiki"], None) is None


@pytest.mark.slow
@pytest.mark.parametrize("question,expected", [
    ("이 기사를 쓴 기자는 누구야?", "박선강"), ("Who wrote the article?", "박선강"),
    ("기사를 낸 언론사는 어디입니까?", "아시아경제"), ("기자 이메일 주소 알려줘", "skpark82@asiae.co.kr"),
])
def test_the_bot_quotes_the_byline(corpus_bot, question, expected):
    answer = corpus_bot.ask(question)
    assert not answer.refused and expected in answer.text
    first = answer.citations[0]
    text = corpus_bot.documents[first.doc_id].text
    assert first.doc_id == SEED and text[first.start:first.end] == first.quote
    assert text[first.span_start:first.span_end] == expected
