"""Staff documents: browse and open the corpus, upload a press release, remove a document.

An upload is parsed exactly as the corpus loader would read it, shown for confirmation, then
added to the index incrementally (``bot.add_documents``) and kept in ``corpus/uploads/`` so a full
rebuild keeps it too.
"""
import streamlit as st

import app_guards
import ui
from bot.errors import BadDocument, BotError

LABELS = {
    "browse": ("찾아보기", "Browse"),
    "upload": ("올리기", "Upload"),
    "remove": ("삭제", "Remove"),
    "search": ("제목·본문 검색", "Search titles and text"),
    "source": ("출처", "Source"),
    "year": ("연도", "Year"),
    "all": ("전체", "All"),
    "count": ("문서 {n}건 중 {m}건", "{m} of {n} documents"),
    "open": ("열어 볼 문서", "Open a document"),
    "choose": ("문서를 고르세요", "Choose a document"),
    "file": ("보도자료 파일 (.txt .md .html .jsonl .hwp .hwpx .pdf .docx)",
             "Press release file (.txt .md .html .jsonl .hwp .hwpx .pdf .docx)"),
    "preview": ("읽은 내용을 확인한 뒤 색인에 추가하세요.", "Check what was read, then add it to the index."),
    "replaces": ("같은 id의 문서가 이미 있습니다: 추가하면 바뀝니다.", "A document with this id exists: adding replaces it."),
    "skipped": ("읽지 못한 줄: {where} ({reason})", "Line not read: {where} ({reason})"),
    "add": ("색인에 추가", "Add to the index"),
    "adding": ("문서를 색인하는 중…", "Indexing the document…"),
    "added": ("문서 {n}건, 문단 {chunks}개를 추가했습니다.", "Added {n} document(s), {chunks} passage(s)."),
    "remove_which": ("삭제할 문서", "Document to remove"),
    "confirm": ("이 문서를 색인에서 지웁니다", "Remove this document from the index"),
    "removed": ("삭제했습니다.", "Removed."),
    "corpus_note": ("원본 파일은 corpus/ 폴더에 남아 있어, 색인을 처음부터 다시 만들면 돌아옵니다.",
                    "Its file is still in corpus/, so a full rebuild brings it back."),
    "unreadable": ("파일을 읽을 수 없습니다: {reason}", "The file could not be read: {reason}"),
    "update_failed": ("색인을 바꾸지 못했습니다: {reason}", "The index could not be updated: {reason}"),
}
PREVIEW_CHARS = 1500


def label(key: str, **values) -> str:
    korean, english = LABELS[key]
    text = english if ui.lang() == "en" else korean
    return text.format(**values) if values else text


def describe(document) -> str:
    return f"{document.title} — {document.doc_id}"


def meta_line(document) -> None:
    parts = [document.source or ui.t("no_source"), document.date or ui.t("no_date"), document.doc_id,
             f"{len(document.text):,}자"]
    ui.show_html(" · ".join(ui.safe_html(p) for p in parts), "card-meta")


def browse(documents) -> None:
    query = st.text_input(label("search"), key="doc_search").strip()
    left, right = st.columns(2)
    everything = label("all")
    with left:
        source = st.selectbox(label("source"), [everything] + sorted({d.source for d in documents.values() if d.source}),
                              key="doc_source")
    with right:
        year = st.selectbox(label("year"), [everything] + sorted({d.date[:4] for d in documents.values() if d.date},
                                                                 reverse=True), key="doc_year")
    matches = [d for d in documents.values()
               if (not query or query in d.title or query in d.text or query == d.doc_id)
               and (source == everything or d.source == source)
               and (year == everything or (d.date or "").startswith(year))]
    matches.sort(key=lambda d: (d.date or "", d.doc_id), reverse=True)
    st.caption(label("count", n=len(documents), m=len(matches)))
    st.dataframe([{"doc_id": d.doc_id, "title": d.title, "date": d.date or "", "source": d.source or "",
                   "chars": len(d.text)} for d in matches[:1000]], hide_index=True, key="doc_table")
    if len(matches) == 1:  # a search that narrows to one document opens it
        chosen = matches[0].doc_id
    else:
        chosen = st.selectbox(label("open"), [d.doc_id for d in matches[:1000]], index=None,
                              placeholder=label("choose"),
                              format_func=lambda doc_id: describe(documents[doc_id]), key="doc_open")
    if chosen:
        document = documents[chosen]
        with st.container(border=True):
            ui.show_html(ui.safe_html(document.title), "card-title")
            meta_line(document)
            ui.show_html(ui.highlighted(document.text), "doc-text")


def upload(bot) -> None:
    uploaded = st.file_uploader(label("file"), type=ui.UPLOAD_TYPES, key="upload")
    if uploaded is None:
        return
    data = uploaded.getvalue()
    try:
        documents, skipped = ui.parse_upload(uploaded.name, data)
    except BadDocument as exc:
        st.error(label("unreadable", reason=ui.md_literal(str(exc))))
        return
    except Exception as exc:  # noqa: BLE001 - a broken file must not take the page down
        ui.failure(exc, "parsing an upload")
        return
    for line in skipped:
        st.warning(label("skipped", where=ui.md_literal(line.path), reason=ui.md_literal(line.reason)))
    if not documents:
        return
    st.info(label("preview"))
    for document in documents:
        with st.container(border=True):
            ui.show_html(ui.safe_html(document.title), "card-title")
            meta_line(document)
            if document.doc_id in bot.documents:
                st.warning(label("replaces"))
            excerpt = document.text[:PREVIEW_CHARS] + ("…" if len(document.text) > PREVIEW_CHARS else "")
            ui.show_html(ui.highlighted(excerpt), "doc-text")
    if st.button(label("add"), key="add_documents", type="primary"):
        try:
            with st.spinner(label("adding")):
                added = bot.add_documents(documents)
                ui.save_upload(ui.settings().corpus_dir, uploaded.name, data)
        except BotError as exc:
            st.error(label("update_failed", reason=ui.md_literal(str(exc))))
        except Exception as exc:  # noqa: BLE001
            ui.failure(exc, "adding documents")
        else:
            st.success(label("added", n=len(documents), chunks=added))


def remove(bot) -> None:
    documents = bot.documents
    with st.form("remove_document", clear_on_submit=True):
        target = st.selectbox(label("remove_which"), sorted(documents), index=None, key="remove_target",
                              placeholder=label("choose"),
                              format_func=lambda doc_id: describe(documents[doc_id]) if doc_id in documents else doc_id)
        confirmed = st.checkbox(label("confirm"), key="remove_confirm")
        submitted = st.form_submit_button(label("remove"))
    if submitted and target and confirmed:
        document = documents.get(target)
        try:
            bot.remove_document(target)
        except BotError as exc:
            st.error(label("update_failed", reason=ui.md_literal(str(exc))))
            return
        except Exception as exc:  # noqa: BLE001
            ui.failure(exc, "removing a document")
            return
        st.success(label("removed"))
        if document is not None and not ui.delete_upload(ui.settings().corpus_dir, document):
            st.caption(label("corpus_note"))


st.set_page_config(layout="wide")
app_guards.require_staff()
bot = ui.get_bot()
st.title(ui.t("documents"))
browse_tab, upload_tab, remove_tab = st.tabs([label("browse"), label("upload"), label("remove")])
with browse_tab:
    browse(bot.documents)
with upload_tab:
    upload(bot)
with remove_tab:
    remove(bot)
