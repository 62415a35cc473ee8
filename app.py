"""보도자료 Q&A: the Streamlit entry point (``make run``). Layout and navigation only.

The kiosk chat is the default page; the staff pages (fact check, documents, evaluation) are listed
only when ``BOT_STAFF_PASSWORD`` is set, and each asks for the password (a login holds for the
browser across pages, tabs and reloads: ``app_guards.py``). The pages live in
``app_pages/``, not ``pages/``: Streamlit runs a ``pages/`` folder as an old-style multipage app,
without this file, when a server's first visitor opens a page's URL directly.
"""
import logging

import streamlit as st

import app_guards
import ui

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

# No layout here: each page sets its own (the kiosk centred, staff pages wide). Setting one here
# too made two layouts in one run, and after the login's rerun a staff page stayed centred.
st.set_page_config(page_title="보도자료 Q&A", page_icon="📰", initial_sidebar_state="collapsed")

pages = {ui.t("visitors"): [st.Page("app_pages/kiosk.py", title=ui.t("kiosk"), icon="💬", default=True)]}
staff_enabled = bool(ui.settings().staff_password)
if staff_enabled:
    pages[ui.t("staff")] = [
        st.Page("app_pages/fact_check.py", title=ui.t("fact_check"), icon="🔎"),
        st.Page("app_pages/documents.py", title=ui.t("documents"), icon="🗂️"),
        st.Page("app_pages/evaluation.py", title=ui.t("evaluation"), icon="📈"),
    ]
page = st.navigation(pages)

ui.page_style()
_, toggle_column = st.columns([5, 1])
with toggle_column:
    st.toggle(ui.t("english"), key="lang_en")
if staff_enabled and app_guards.staff_signed_in():
    with st.sidebar:
        if st.button(ui.t("logout"), key="logout"):
            app_guards.log_out()
            st.rerun()
app_guards.sync_staff_cookie()

page.run()
