"""Staff fact check on a wide page: the answer, whether the documents agree, the passages that
support it (quote with the span marked, document, date, source, score), apart from those stating
another figure and from those that were merely retrieved; exported as Markdown or CSV.

Which passage plays which part is ``ui.passage_roles`` (docs/decisions.md, session 12)."""
import csv
import io

import streamlit as st

import app_guards
import ui
from bot.errors import BadQuestion

LABELS = {
    "question": ("확인할 질문", "Question to check"),
    "check": ("확인", "Check"),
    "answer": ("답", "Answer"),
    "rewritten": ("대화 맥락으로 바꾼 질문", "Question as rewritten from context"),
    "not_rewritten": ("바꾸지 않음 (질문 그대로 검색)", "not rewritten (searched as asked)"),
    "verdict": ("판정", "Verdict"),
    "conflict": ("불일치: 문서들이 이 수치를 서로 다르게 말합니다 (다른 수치 {n}건). 근거를 모두 확인하세요.",
                 "Disagreement: the documents state different figures ({n} other). Check every passage."),
    "agree": ("일치: 문단 {n}건이 같은 답을 말합니다.", "Agreement: {n} passages state the same answer."),
    "single": ("근거가 한 건뿐입니다: 다른 자료로도 확인하세요.", "Only one passage states this: check elsewhere too."),
    "refused": ("답을 찾지 못했습니다: 아래 문단은 검색되었을 뿐, 답을 뒷받침하지 않습니다.",
                "No answer found: the passages below were only retrieved and support nothing."),
    "supporting": ("답을 뒷받침하는 문단 ({n}건)", "Passages that support the answer ({n})"),
    "disagreeing": ("다른 수치를 말하는 문단 ({n}건)", "Passages stating another figure ({n})"),
    "retrieved": ("검색만 된 문단: 답의 근거가 아님 ({n}건)", "Retrieved only, not support ({n})"),
    "retrieved_note": ("검색 점수가 높았지만 답을 말하지 않는 문단입니다. 근거로 인용하지 마세요.",
                       "Passages the search ranked high that do not state the answer. Do not cite them."),
    "document": ("문서", "Document"),
    "date_source": ("날짜 · 출처", "Date · source"),
    "passage": ("문단", "Passage"),
    "confidence": ("판단 점수", "Decision scores"),
    "export_md": ("Markdown으로 내려받기", "Download as Markdown"),
    "export_csv": ("CSV로 내려받기", "Download as CSV"),
}
COLUMNS = ["role", "rank", "doc_id", "title", "source", "date", "score", "start", "end", "span", "quote"]
ROLE_NAMES = {"supporting": "근거", "disagreeing": "다른 수치", "retrieved": "검색만 됨"}


def label(key: str, **values) -> str:
    korean, english = LABELS[key]
    text = english if ui.lang() == "en" else korean
    return text.format(**values) if values else text


def citation_rows(answer) -> list[dict]:
    """One row per passage, supporting first, then disagreeing, then merely retrieved."""
    roles = ui.passage_roles(answer)
    rows = []
    for role, citations in (("supporting", roles.supporting), ("disagreeing", roles.disagreeing),
                            ("retrieved", roles.retrieved)):
        for rank, c in enumerate(citations, start=1):
            rows.append({"role": role, "rank": rank, "doc_id": c.doc_id, "title": c.title,
                         "source": c.source or "", "date": c.date or "", "score": c.score,
                         "start": c.start, "end": c.end, "span": ui.span_value(c) or "", "quote": c.quote})
    return rows


def answer_csv(answer) -> str:
    """The answer's passages as CSV (UTF-8 with BOM so spreadsheet programs read the Korean)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(citation_rows(answer))
    return "\ufeff" + buffer.getvalue()


def answer_markdown(answer) -> str:
    """The question, answer and quoted passages (each with its part) as a Markdown report."""
    lines = [f"# {answer.question}", "", f"**{'거절' if answer.refused else '답'}:** {answer.text}", ""]
    if answer.rewritten_question:
        lines += [f"*재작성된 질문:* {answer.rewritten_question}", ""]
    if answer.conflict:
        lines += ["> ⚠ 문서들이 서로 다른 수치를 말합니다.", ""]
    for row in citation_rows(answer):
        meta = " · ".join(x for x in (row["source"], row["date"], f"score {row['score']:.3f}") if x)
        lines += [f"{row['rank']}. [{ROLE_NAMES[row['role']]}] **{row['title']}** ({meta}; `{row['doc_id']}` "
                  f"{row['start']}–{row['end']})", "", f"   > {row['quote']}", ""]
    return "\n".join(lines)


def verdict(answer, roles) -> None:
    """Agreement, disagreement, a single source, or no answer: one coloured line."""
    if answer.refused:
        st.warning(label("refused"))
    elif roles.disagreeing:
        st.error(label("conflict", n=len(roles.disagreeing)))
    elif len(roles.supporting) > 1:
        st.success(label("agree", n=len(roles.supporting)))
    else:
        st.info(label("single"))


def retrieved_table(citations) -> None:
    """The merely retrieved passages as a wrapped HTML table (every cell escaped), so the whole
    quote is visible on the page rather than cut off at the table's right edge."""
    head = "".join(f"<th>{ui.safe_html(h)}</th>" for h in ("#", label("document"), label("date_source"),
                                                           "score", label("passage")))
    rows = []
    for rank, c in enumerate(citations, start=1):
        document = f"{ui.safe_html(c.title or c.doc_id)}<br><span class=\"card-meta\">{ui.safe_html(c.doc_id)}</span>"
        meta = " · ".join(ui.safe_html(x) for x in (c.date or ui.t("no_date"), c.source or ui.t("no_source")))
        rows.append(f"<tr><td>{rank}</td><td>{document}</td><td>{meta}</td><td>{c.score:.3f}</td>"
                    f"<td>{ui.safe_html(c.quote)}</td></tr>")
    ui.show_html(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>", "retrieved")


st.set_page_config(layout="wide")
app_guards.require_staff()
bot = ui.get_bot()
st.title(ui.t("fact_check"))

with st.form("fact_check"):
    question = st.text_input(label("question"), max_chars=ui.settings().max_question_chars)
    submitted = st.form_submit_button(label("check"))
if submitted and question.strip():
    try:
        with st.spinner(ui.t("thinking")):
            st.session_state["fact_check_answer"] = bot.ask(question)
    except BadQuestion as exc:
        st.warning(ui.t("bad_question", reason=ui.md_literal(str(exc))))
    except Exception as exc:  # noqa: BLE001
        ui.failure(exc, "fact check")

if "fact_check_answer" in st.session_state:
    answer = st.session_state["fact_check_answer"]
    roles = ui.passage_roles(answer)
    st.subheader(label("answer"))
    ui.show_text(answer.text, "refusal" if answer.refused else "answer-text")
    st.caption(label("rewritten"))
    ui.show_text(answer.rewritten_question or label("not_rewritten"))
    st.subheader(label("verdict"))
    verdict(answer, roles)
    if answer.confidence:
        scores = " · ".join(f"{name} {value:.3f}" for name, value in answer.confidence.items())
        ui.show_html(ui.safe_html(f"{label('confidence')}: {scores}"), "card-meta")
    left, right, _ = st.columns([1, 1, 3])
    with left:
        st.download_button(label("export_md"), answer_markdown(answer), file_name="fact-check.md",
                           mime="text/markdown", key="export_md")
    with right:
        st.download_button(label("export_csv"), answer_csv(answer), file_name="fact-check.csv",
                           mime="text/csv", key="export_csv")
    if roles.supporting:
        st.subheader(label("supporting", n=len(roles.supporting)))
        for number, citation in enumerate(roles.supporting, start=1):
            ui.citation_card(number, citation, bot.documents.get(citation.doc_id), show_score=True)
    if roles.disagreeing:
        st.subheader(label("disagreeing", n=len(roles.disagreeing)))
        for number, citation in enumerate(roles.disagreeing, start=1):
            ui.citation_card(number, citation, bot.documents.get(citation.doc_id), show_score=True)
    if roles.retrieved:
        st.subheader(label("retrieved", n=len(roles.retrieved)))
        st.caption(label("retrieved_note"))
        retrieved_table(roles.retrieved)
