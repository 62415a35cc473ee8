"""The Streamlit app through ``AppTest``: asking, follow-ups, refusals, guards, staff pages, and
document text (``<script>``, markdown links) always shown literally."""
import html
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED_TITLE = "이용섭 시장 “AI 생태계 조성 지원 통한 일자리 창출에 역량 집중할 것”"
PASSWORD = "s3cret-staff"
NEW_RELEASE = (
    "date 2024-05 광주시, 드론 배송 시범사업 착수\n\n"
    "[테스트일보 사회부 홍길동 기자] 광주광역시는 3일 시청에서 드론 배송 시범사업 출범식을 열었다고 밝혔다.\n\n"
    "이번 드론 배송 시범사업에는 물류 기업 17개사가 참여하며, 내년 3월까지 광산구 일대에서 의약품을 배송한다.\n\n"
    "<script>alert('x')</script> 자세한 내용은 [x](http://y) 에서 볼 수 있다.\n"
)
NEW_QUESTION = "드론 배송 시범사업에 참여하는 기업은 몇 개인가?"


def _unescaped(at) -> str:
    """Every markdown and caption element of the page, with character references decoded."""
    return "\n".join(html.unescape(m.value) for m in list(at.markdown) + list(at.caption))


def _ask(at, question: str):
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, at.exception
    return at


def _answers(at) -> list[str]:
    return [html.unescape(m.value) for m in at.markdown if 'class="answer-text"' in m.value]


@pytest.fixture
def app(corpus_index, monkeypatch):
    """The app over the session's corpus index (read only), no staff password."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("BOT_INDEX_DIR", str(corpus_index))
    monkeypatch.delenv("BOT_STAFF_PASSWORD", raising=False)
    monkeypatch.delenv("BOT_RATE_LIMIT_PER_MINUTE", raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def staff_app(corpus_index, monkeypatch, tmp_path):
    """The app over a private copy of the index and an empty corpus folder, with a staff password."""
    from streamlit.testing.v1 import AppTest

    index_dir = tmp_path / "index"
    shutil.copytree(corpus_index, index_dir)
    monkeypatch.setenv("BOT_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("BOT_CORPUS_DIR", str(tmp_path / "corpus"))
    monkeypatch.setenv("BOT_STAFF_PASSWORD", PASSWORD)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def _login(at, page: str):
    at.switch_page(page).run()
    at.text_input(key="staff_password").input(PASSWORD)
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert at.session_state["staff"] is True
    return at


def _cards(at) -> list[str]:
    """The titles of the source cards on the page, in order."""
    return [html.unescape(m.value) for m in at.markdown if 'class="card-title"' in m.value]


@pytest.mark.slow
def test_kiosk_shows_examples_and_no_admin_controls(app):
    import ui

    labels = [b.label for b in app.button]
    assert all(example in labels for example in ui.KIOSK_EXAMPLES["ko"])
    assert "새 대화" in labels
    assert not app.file_uploader and not app.text_input


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_kiosk_example_is_answered_when_clicked_first(app, lang):
    """Each example button, clicked as the first question of a conversation, gets an answer (not
    a refusal) quoting the seed release, with the expected value in the short answer."""
    import ui

    expected = {"ko": ["8", "전창호", "김대중컨벤션센터"], "en": ["8", "전창호", "32개사"]}[lang]
    if lang == "en":
        app.toggle(key="lang_en").set_value(True).run()
    for number, (example, value) in enumerate(zip(ui.KIOSK_EXAMPLES[lang], expected)):
        app.button(key=f"example_{number}").click().run()
        assert not app.exception, app.exception
        question, answer = app.session_state["conversation"][0]
        assert question == example
        assert not answer.refused, f"{example!r} was refused"
        assert value in answer.text, (example, answer.text)
        assert answer.citations[0].doc_id == "gwangju-gilab-mou-2020-11"
        app.button(key="new_conversation").click().run()


@pytest.mark.slow
def test_asking_gives_the_answer_then_a_source_card_from_the_seed_article(app):
    _ask(app, "헬스케어 분야 기업은 몇 개인가?")
    answers = _answers(app)
    assert len(answers) == 1 and "8" in answers[0]
    titles = [html.unescape(m.value) for m in app.markdown if 'class="card-title"' in m.value]
    assert titles[0] == f'<div class="card-title">1. {SEED_TITLE}</div>'
    quotes = [m.value for m in app.markdown if 'class="quote"' in m.value]
    assert '<mark class="answer-span">8</mark>' in quotes[0]
    assert "헬스케어 분야" in html.unescape(quotes[0])
    assert any(e.label == "문서 전체 보기" for e in app.expander)


@pytest.mark.slow
def test_an_example_question_is_asked_when_clicked(app):
    app.button(key="example_0").click().run()
    assert not app.exception, app.exception
    assert len(_answers(app)) == 1
    assert app.session_state["conversation"][0][0] == "헬스케어 분야 기업은 몇 개인가?"
    assert not [b for b in app.button if b.key and b.key.startswith("example_")]


@pytest.mark.slow
def test_a_follow_up_uses_the_conversation(app):
    _ask(app, "헬스케어 분야 기업은 몇 개인가?")
    _ask(app, "그럼 자동차 분야는?")
    answers = _answers(app)
    assert len(answers) == 2 and "6" in answers[1]
    assert len(app.session_state["conversation"]) == 2
    # Only passages that state the answer are sources: one card per answer, the seed release.
    assert _cards(app) == [f'<div class="card-title">1. {SEED_TITLE}</div>'] * 2


@pytest.mark.slow
def test_the_short_answer_carries_no_raw_quote_fragment(app):
    # A Korean question: the reader's span exactly as the release writes it.
    _ask(app, "헬스케어 분야 기업은 몇 개인가?")
    assert _answers(app)[0] == '<div class="answer-text">8</div>'
    # And an English one: the same span.
    _ask(app, "How many healthcare companies signed?")
    assert _answers(app)[1] == '<div class="answer-text">8</div>'
    assert app.session_state["conversation"][1][1].text == "8"


@pytest.mark.slow
def test_new_conversation_forgets_the_history(app):
    _ask(app, "헬스케어 분야 기업은 몇 개인가?")
    app.button(key="new_conversation").click().run()
    assert app.session_state["conversation"] == []
    assert _answers(app) == []


@pytest.mark.slow
def test_a_question_the_corpus_cannot_answer_is_refused_plainly(app):
    _ask(app, "부산의 인구는 몇 명인가?")
    assert _answers(app) == []
    page = _unescaped(app)
    assert page.count("보도자료에서 이 질문에 대한 답을 찾을 수 없습니다.") == 1  # said once, not twice
    assert "답이 없습니다" not in page
    hints = [html.unescape(m.value) for m in app.markdown if 'class="hint"' in m.value]
    assert len(hints) == 1 and "이름이나 날짜를 넣어" in hints[0]
    assert "관련 있지만 답은 아닌 문단" in page


@pytest.mark.slow
def test_a_follow_up_after_a_refusal_says_why(app):
    _ask(app, "화성 탐사선은 언제 발사되었나?")
    _ask(app, "그럼 달 탐사선은?")
    _, answer = app.session_state["conversation"][1]
    assert answer.refused and answer.rewritten_question
    hints = [html.unescape(m.value) for m in app.markdown if 'class="hint"' in m.value]
    assert len(hints) == 2
    assert "앞 질문에도 답을 찾지 못해서" in hints[1] and answer.rewritten_question in hints[1]


@pytest.mark.slow
def test_too_long_question_gets_a_clear_message(app):
    _ask(app, "가" * 600)
    assert "너무 깁니다" in app.warning[0].value and "500" in app.warning[0].value
    assert app.session_state["conversation"] == []


@pytest.mark.slow
def test_rate_limit_per_session(corpus_index, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("BOT_INDEX_DIR", str(corpus_index))
    monkeypatch.setenv("BOT_RATE_LIMIT_PER_MINUTE", "2")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    _ask(at, "헬스케어 분야 기업은 몇 개인가?")
    _ask(at, "그럼 자동차 분야는?")
    assert not at.warning
    _ask(at, "보안은?")
    assert "1분에 2개" in at.warning[0].value
    assert len(at.session_state["conversation"]) == 2


@pytest.mark.slow
def test_english_toggle_switches_the_labels(app):
    app.toggle(key="lang_en").set_value(True).run()
    assert "New conversation" in [b.label for b in app.button]


@pytest.mark.slow
def test_staff_pages_are_absent_without_a_password(app):
    with pytest.raises(ValueError):
        app.switch_page("app_pages/fact_check.py")


@pytest.mark.slow
def test_staff_pages_need_the_password(staff_app):
    staff_app.switch_page("app_pages/fact_check.py").run()
    assert "직원 전용" in staff_app.info[0].value
    staff_app.text_input(key="staff_password").input("wrong")
    staff_app.form_submit_button[0].click().run()
    assert staff_app.error[0].value == "비밀번호가 맞지 않습니다."
    assert "staff" not in staff_app.session_state or not staff_app.session_state["staff"]
    _login(staff_app, "app_pages/fact_check.py")
    assert staff_app.text_input[0].label == "확인할 질문"


@pytest.mark.slow
def test_fact_check_separates_support_from_retrieval(staff_app):
    _login(staff_app, "app_pages/fact_check.py")
    staff_app.text_input[0].input("헬스케어 분야 기업은 몇 개인가?")
    staff_app.form_submit_button[0].click().run()
    assert not staff_app.exception, staff_app.exception
    assert "8" in _answers(staff_app)[0]
    headings = [h.value for h in staff_app.subheader]
    assert "답을 뒷받침하는 문단 (1건)" in headings
    retrieved = next(h for h in headings if h.startswith("검색만 된 문단"))
    assert headings.index("답을 뒷받침하는 문단 (1건)") < headings.index(retrieved)
    assert staff_app.info[0].value.startswith("근거가 한 건뿐입니다")  # the verdict
    # The one supporting passage is a card with its span marked; unrelated articles are not.
    assert _cards(staff_app) == [f'<div class="card-title">1. {SEED_TITLE}</div>']
    quote = next(m.value for m in staff_app.markdown if 'class="quote"' in m.value)
    assert '<mark class="answer-span">8</mark>' in quote
    table = html.unescape(next(m.value for m in staff_app.markdown if 'class="retrieved"' in m.value))
    assert table.count("<tr>") == int(retrieved.split("(")[1].split("건")[0]) + 1
    assert "kowikinews" in table and '<mark' not in table
    metas = [html.unescape(m.value) for m in staff_app.markdown if 'class="card-meta"' in m.value]
    assert any("score" in m and "gwangju-gilab-mou-2020-11" in m for m in metas)
    assert {b.label for b in staff_app.download_button} == {"Markdown으로 내려받기", "CSV로 내려받기"}


@pytest.mark.slow
def test_evaluation_page_without_reports_says_how_to_make_them(staff_app, monkeypatch, tmp_path):
    import ui

    monkeypatch.setattr(ui, "REPORTS_DIR", tmp_path / "no-reports")
    _login(staff_app, "app_pages/evaluation.py")
    assert "아직 저장된 평가 결과가 없습니다" in staff_app.info[0].value


@pytest.mark.slow
def test_evaluation_page_shows_the_latest_run(staff_app, monkeypatch, tmp_path):
    import json

    import ui

    reports = tmp_path / "reports"
    (reports / "runs").mkdir(parents=True)
    older = {"answer_accuracy": 0.7, "refusal_recall": 0.5, "latency_p50_ms": 120.0}
    newer = {"answer_accuracy": 0.8, "refusal_recall": 0.6, "latency_p50_ms": 100.0}
    (reports / "history.jsonl").write_text("\n".join(
        json.dumps({"timestamp": f"2026-01-0{i}", "label": "x", "metrics": m}) for i, m in ((1, older), (2, newer))))
    results = [{"id": "seed-001", "question": "헬스케어?", "correct": True},
               {"id": "un-001", "question": "<b>부산</b>?", "correct": False, "failure": "should have refused"}]
    (reports / "runs" / "latest.json").write_text(json.dumps({"created": "2026-01-02", "metrics": newer,
                                                             "results": results}))
    monkeypatch.setattr(ui, "REPORTS_DIR", reports)
    _login(staff_app, "app_pages/evaluation.py")
    assert not staff_app.exception, staff_app.exception
    metrics = {m.label: (m.value, m.delta) for m in staff_app.metric}
    assert metrics["정답률"] == ("80.0%", "+10.0%p")
    assert metrics["지연 p50 (ms)"] == ("100", "-20 ms")
    assert len(staff_app.dataframe) == 2  # the history and the failing questions
    charts = [json.loads(c.proto.spec) for c in staff_app.get("vega_lite_chart")]
    assert len(charts) == 2  # shares and latencies, drawn from the history
    legend = charts[0]["encoding"]["color"]["legend"]
    assert legend["orient"] == "bottom" and not (legend.get("title") or "").strip()
    assert charts[0]["encoding"]["color"]["scale"]["domain"] == ["정답률", "거절 재현율"]


@pytest.mark.slow
def test_upload_ask_then_remove_and_text_stays_literal(staff_app, tmp_path):
    at = _login(staff_app, "app_pages/documents.py")
    at.file_uploader(key="upload").set_value(("drone-2024.txt", NEW_RELEASE.encode(), "text/plain")).run()
    assert not at.exception, at.exception
    preview = "\n".join(m.value for m in at.markdown if 'class="doc-text"' in m.value)
    assert "&lt;script&gt;" in preview and "<script" not in preview
    assert "[x](http://y)" not in preview and "](" not in preview
    assert "<script>alert('x')</script>" in html.unescape(preview)
    at.button(key="add_documents").click().run()
    assert not at.exception, at.exception
    assert "추가했습니다" in at.success[0].value
    assert (tmp_path / "corpus" / "uploads" / "drone-2024.txt").is_file()

    at.switch_page("app_pages/kiosk.py").run()
    _ask(at, NEW_QUESTION)
    assert "17" in _answers(at)[0]
    rendered = [m.value for m in at.markdown if 'class="doc-text"' in m.value or 'class="quote"' in m.value]
    assert any("&lt;script&gt;" in r for r in rendered)
    assert all("<script" not in r and "](" not in r for r in rendered)
    assert any("[x](http://y)" in html.unescape(r) for r in rendered)

    at.switch_page("app_pages/documents.py").run()
    at.selectbox(key="remove_target").set_value("uploads/drone-2024")
    at.checkbox(key="remove_confirm").check()
    at.form_submit_button[0].click().run()
    assert not at.exception, at.exception
    assert "삭제했습니다" in at.success[0].value
    assert not (tmp_path / "corpus" / "uploads" / "drone-2024.txt").exists()

    at.switch_page("app_pages/kiosk.py").run()
    at.button(key="new_conversation").click().run()
    _ask(at, NEW_QUESTION)
    assert all("17" not in a for a in _answers(at))


def test_safe_html_keeps_every_character_and_no_markup():
    import ui

    text = "<script>alert('x')</script>\n\n[x](http://y) *굵게* $1$ :red[z] www.a.com"
    rendered = ui.safe_html(text)
    assert html.unescape(rendered).replace("<br>", "\n") == text
    for active in ("<script", "](", "*굵게*", "$1$", ":red[", "www.a", "\n"):
        assert active not in rendered
    marked = ui.highlighted("가나다라마바", passage=(1, 5), span=(2, 4))
    assert marked == ('가<mark class="passage">나</mark><mark class="answer-span">다라</mark>'
                      '<mark class="passage">마</mark>바')


def _citation(doc_id, start, end, span=None, quote=None):
    from bot.records import Citation

    quote = quote or "가" * (end - start)
    return Citation(doc_id=doc_id, title=doc_id, date=None, source=None, quote=quote, start=start, end=end,
                    score=0.5, span_start=span[0] if span else None, span_end=span[1] if span else None)


def test_passage_roles_support_only_what_states_the_answer():
    """The answer's citation and the evidence stating the same value support it; evidence with
    another value disagrees; every other citation was only retrieved (overlaps are not repeated)."""
    import ui
    from bot.records import Answer

    lead = _citation("a", 100, 120, span=(108, 109), quote="헬스케어 분야 8, 자동차 분야 6")
    same = _citation("b", 0, 10, span=(5, 6), quote="헬스케어 8개 기업")
    other = _citation("c", 50, 61, span=(55, 57), quote="헬스케어 12개 기업")
    unrelated = _citation("d", 0, 40)
    overlapping = _citation("a", 90, 130)
    answer = Answer(question="q", text="8개입니다.", refused=False,
                    citations=(lead, unrelated, overlapping), evidence=(same,))
    roles = ui.passage_roles(answer)
    assert roles == ui.PassageRoles((lead, same), (), (unrelated,))
    assert ui.sources(answer) == (lead, same)

    conflict = Answer(question="q", text="8개입니다. 다만 …", refused=False, citations=(lead, unrelated),
                      evidence=(other, same), conflict=True)
    roles = ui.passage_roles(conflict)
    assert roles.supporting == (lead, same) and roles.disagreeing == (other,)
    assert ui.span_value(lead) == "8" and ui.span_value(other) == "12"

    refusal = Answer(question="q", text="없습니다", refused=True, related=(unrelated,))
    assert ui.passage_roles(refusal) == ui.PassageRoles((), (), (unrelated,))
    assert ui.sources(refusal) == ()
