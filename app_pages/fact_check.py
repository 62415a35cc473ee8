"""Staff fact check: every supporting passage with its score, date and source, the rewritten
question, whether the documents agree, and the answer exported as Markdown or CSV."""
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
    "conflict": ("문서들이 이 수치에 대해 서로 다르게 말합니다. 근거를 모두 확인하세요.",
                 "The documents disagree on this figure. Check every passage."),
    "agree": ("근거 {n}건이 같은 답을 뒷받침합니다.", "{n} passages support the same answer."),
    "single": ("근거가 한 건뿐입니다. 다른 자료로도 확인하세요.", "Only one passage supports this; check elsewhere too."),
    "passages": ("근거 문단 (점수순)", "Supporting passages (by score)"),
    "evidence": ("같은 답을 담은 다른 문단", "Other passages with the same answer"),
    "export_md": ("Markdown으로 내려받기", "Download as Markdown"),
    "export_csv": ("CSV로 내려받기", "Download as CSV"),
    "search": ("검색 상위 문단 (하이브리드)", "Top search passages (hybrid)"),
}
COLUMNS = ["rank", "role", "doc_id", "title", "source", "date", "score", "start", "end", "quote"]


def label(key: str, **values) -> str:
    korean, english = LABELS[key]
    text = english if ui.lang() == "en" else korean
    return text.format(**values) if values else text


def citation_rows(answer) -> list[dict]:
    """One row per citation, evidence passage and related passage, in the order shown."""
    rows = []
    for role, citations in (("citation", answer.citations), ("evidence", answer.evidence),
                            ("related", answer.related)):
        for rank, c in enumerate(citations, start=1):
            rows.append({"rank": rank, "role": role, "doc_id": c.doc_id, "title": c.title,
                         "source": c.source or "", "date": c.date or "", "score": c.score,
                         "start": c.start, "end": c.end, "quote": c.quote})
    return rows


def answer_csv(answer) -> str:
    """The answer's passages as CSV (UTF-8 with BOM so spreadsheet programs read the Korean)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(citation_rows(answer))
    return "\ufeff" + buffer.getvalue()


def answer_markdown(answer) -> str:
    """The question, answer and quoted sources as a Markdown report."""
    lines = [f"# {answer.question}", "", f"**{'거절' if answer.refused else '답'}:** {answer.text}", ""]
    if answer.rewritten_question:
        lines += [f"*재작성된 질문:* {answer.rewritten_question}", ""]
    if answer.conflict:
        lines += ["> ⚠ 문서들이 서로 다른 수치를 말합니다.", ""]
    for row in citation_rows(answer):
        meta = " · ".join(x for x in (row["source"], row["date"], f"score {row['score']:.3f}") if x)
        lines += [f"{row['rank']}. **{row['title']}** ({row['role']}; {meta}; `{row['doc_id']}` "
                  f"{row['start']}–{row['end']})", "", f"   > {row['quote']}", ""]
    return "\n".join(lines)


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
            st.session_state["fact_check_result"] = (bot.ask(question), bot.search(question, k=10))
    except BadQuestion as exc:
        st.warning(ui.t("bad_question", reason=ui.md_literal(str(exc))))
    except Exception as exc:  # noqa: BLE001
        ui.failure(exc, "fact check")

if "fact_check_result" in st.session_state:
    answer, hits = st.session_state["fact_check_result"]
    st.subheader(label("answer"))
    ui.show_text(answer.text, "refusal" if answer.refused else "answer-text")
    st.caption(label("rewritten"))
    ui.show_text(answer.rewritten_question or label("not_rewritten"))
    if answer.conflict:
        st.warning(label("conflict"))
    elif not answer.refused:
        supporting = 1 + len(answer.evidence)
        if supporting > 1:
            st.success(label("agree", n=supporting))
        else:
            st.info(label("single"))
    rows = citation_rows(answer)
    if rows:
        st.dataframe(rows, hide_index=True)
    left, right = st.columns(2)
    with left:
        st.download_button(label("export_md"), answer_markdown(answer), file_name="fact-check.md",
                           mime="text/markdown", key="export_md")
    with right:
        st.download_button(label("export_csv"), answer_csv(answer), file_name="fact-check.csv",
                           mime="text/csv", key="export_csv")
    st.subheader(label("passages"))
    ui.answer_block(answer, bot.documents, limit=10, show_score=True, with_text=False)
    if answer.evidence:
        st.subheader(label("evidence"))
        for number, citation in enumerate(answer.evidence, start=1):
            ui.citation_card(number, citation, bot.documents.get(citation.doc_id), show_score=True)
    st.subheader(label("search"))
    st.dataframe([{"rank": i, "doc_id": h.doc_id, "title": h.chunk.title, "date": h.chunk.date or "",
                   "source": h.chunk.source or "", "score": round(float(h.score), 4),
                   "ranks": ", ".join(f"{k} {v}" for k, v in h.ranks.items()), "text": h.text}
                  for i, h in enumerate(hits, start=1)], hide_index=True)
