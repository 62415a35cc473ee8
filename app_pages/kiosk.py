"""The kiosk chat: ask about the press releases, get a short answer with numbered sources.

The conversation lives in ``st.session_state["conversation"]`` as (question, Answer) pairs and is
passed to ``bot.ask`` as history, so follow-ups ("그럼 자동차 분야는?") are understood.
No admin controls here.
"""
import streamlit as st

import app_guards
import ui
from bot.errors import BadQuestion

st.set_page_config(layout="centered")
bot = ui.get_bot()
config = ui.settings()
conversation = st.session_state.setdefault("conversation", [])

title_column, reset_column = st.columns([4, 1], vertical_alignment="bottom")
with title_column:
    st.title(ui.t("app_title"))
with reset_column:
    if st.button(ui.t("new_conversation"), key="new_conversation", width="stretch"):
        conversation.clear()
        st.session_state.pop("pending_question", None)
st.caption(ui.t("intro"))

previous = None
for question, answer in conversation:
    with st.chat_message("user"):
        ui.show_text(question)
    with st.chat_message("assistant"):
        ui.answer_block(answer, bot.documents, previous=previous)
    previous = answer


def ask_example(example: str) -> None:
    st.session_state["pending_question"] = example


# Pinned to the bottom of the page wherever it is called; read first so that the examples are
# hidden as soon as a question is on its way.
typed = st.chat_input(ui.t("placeholder"), key="question")
question = typed or st.session_state.pop("pending_question", None)

if not conversation and not question:
    st.markdown(f"**{ui.t('examples')}**")
    examples = ui.KIOSK_EXAMPLES[ui.lang()]
    columns = st.columns(len(examples))
    for number, (column, example) in enumerate(zip(columns, examples)):
        with column:
            st.button(example, key=f"example_{number}", width="stretch", on_click=ask_example, args=(example,))

if question:
    limit = config.max_question_chars
    if len(question.strip()) > limit:
        st.warning(ui.t("too_long", n=len(question.strip()), limit=limit))
    elif app_guards.question_admitted(config):
        with st.chat_message("user"):
            ui.show_text(question)
        with st.chat_message("assistant"):
            answer = None
            try:
                with st.spinner(ui.t("thinking")):
                    answer = bot.ask(question, history=list(conversation))
            except BadQuestion as exc:
                st.warning(ui.t("bad_question", reason=ui.md_literal(str(exc))))
            except Exception as exc:  # noqa: BLE001 - a visitor never sees a stack trace
                ui.failure(exc, "answering")
            if answer is not None:
                ui.answer_block(answer, bot.documents, previous=previous)
                conversation.append((question, answer))
