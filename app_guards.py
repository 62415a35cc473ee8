"""The app's guards, wired to Streamlit: the kiosk question limit and the staff login.

The logic lives in ``bot.guards`` (pure, unit-tested); this module keeps one instance of each
guard per server process (``st.cache_resource``), keyed by the client's address: a reload or a
second tab is a new page session but the same client. The staff login is a signed, expiring token
kept in the page session and in a cookie, so it holds across pages, tabs and reloads.
"""
from __future__ import annotations

import hmac
import math
import secrets
import time

import streamlit as st

from bot.guards import Lockout, QuestionGate, StaffTokens, client_key
from bot.settings import Settings
from ui import log, settings, t

STAFF_COOKIE = "bot_staff"


@st.cache_resource(show_spinner=False)
def _question_gate() -> QuestionGate:
    return QuestionGate()


@st.cache_resource(show_spinner=False)
def _lockout() -> Lockout:
    return Lockout()


@st.cache_resource(show_spinner=False)
def _staff_tokens() -> StaffTokens:
    # Streamlit's own signing key: random per process unless server.cookieSecret is configured
    # (set it to share staff logins between replicas or keep them over a restart).
    from streamlit import config

    return StaffTokens(config.get_option("server.cookieSecret"))


def client() -> str:
    """The key the guards count this visitor under: its address (``bot.guards.client_key``).

    Streamlit reports a loopback peer as None; without any request headers there is no connection
    at all (``AppTest``), and the page session stands in for the client.
    """
    headers = st.context.headers
    if not headers:
        return "session:" + st.session_state.setdefault("_client_session", secrets.token_hex(8))
    peer = st.context.ip_address or "127.0.0.1"
    return client_key(peer, headers.get_all("X-Forwarded-For"), settings().trusted_proxies)


def question_admitted(config: Settings) -> bool:
    """Count a kiosk question against this client's and the process's limits; when either is
    reached, say so (and when to try again) and return False."""
    admission = _question_gate().admit(client(), config.rate_limit_per_minute,
                                       config.rate_limit_total_per_minute, time.monotonic())
    if admission.allowed:
        return True
    seconds = max(1, math.ceil(admission.retry_after))
    if admission.reason == "client":
        st.warning(t("rate_limited", limit=config.rate_limit_per_minute, seconds=seconds))
    else:
        log.warning("kiosk busy: %d questions a minute reached", config.rate_limit_total_per_minute)
        st.warning(t("busy", seconds=seconds))
    return False


def staff_signed_in() -> bool:
    """True when this browser holds a valid staff session: logged in on this page, or the cookie
    of an earlier login (another tab, before a reload). Checked on every run, so a logout in one
    tab ends the session in the others at their next click."""
    password = settings().staff_password
    tokens, now = _staff_tokens(), time.time()
    held = [st.session_state.get("staff_token"), st.context.cookies.get(STAFF_COOKIE)]
    for token in held:
        if password and token and tokens.valid(token, password, now):
            st.session_state.update(staff=True, staff_token=token)
            return True
    st.session_state["staff"] = False
    st.session_state.pop("staff_token", None)
    return False


def log_out() -> None:
    """End the staff session everywhere (the token is revoked) and drop this browser's cookie."""
    token = st.session_state.pop("staff_token", None)
    if token:
        _staff_tokens().revoke(token, time.time())
        st.session_state["staff_cookie_dropped"] = token
    st.session_state["staff"] = False


def sync_staff_cookie() -> None:
    """Write the staff session to the browser's cookie, or drop a dead one.

    Streamlit cannot set a cookie from Python, and reads cookies only when a page connects
    (``st.context.cookies``). A small script in an ``st.html`` element (not iframed, so it writes
    the app's own cookie jar) sets it; the next page load sends it. Its only variable part is a
    token that matched ``bot.guards.TOKEN_PATTERN`` (digits, hex and dots).
    """
    token = st.session_state.get("staff_token") if st.session_state.get("staff") else None
    sent = st.context.cookies.get(STAFF_COOKIE)
    if token and sent != token and StaffTokens.expires(token):
        max_age = max(0, StaffTokens.expires(token) - int(time.time()))
        _script(f'document.cookie = "{STAFF_COOKIE}={token}; Path=/; Max-Age={max_age}; SameSite=Strict"'
                ' + (location.protocol === "https:" ? "; Secure" : "");')
        return
    dead = st.session_state.get("staff_cookie_dropped") or (sent if not token else None)
    if dead and StaffTokens.expires(dead):
        # Only this dead value: another tab may have written a newer login meanwhile.
        _script(f'if (document.cookie.split("; ").includes("{STAFF_COOKIE}={dead}")) '
                f'document.cookie = "{STAFF_COOKIE}=; Path=/; Max-Age=0; SameSite=Strict";')


def _script(code: str) -> None:
    st.html(f"<script>{code}</script>", unsafe_allow_javascript=True)


def require_staff() -> None:
    """Stop the page unless a staff password is configured and this browser is logged in.

    Wrong passwords are counted per client and process (``bot.guards.Lockout``): after 5 within
    10 minutes every attempt is refused for 10 minutes, the right password too.
    """
    password = settings().staff_password
    if not password:
        st.stop()
    if staff_signed_in():
        return
    who = client()
    st.info(t("login_needed"))
    with st.form("staff_login"):
        given = st.text_input(t("password"), type="password", key="staff_password")
        submitted = st.form_submit_button(t("login"))
    if not submitted:
        locked_for = _lockout().locked_for(who, time.monotonic())
        if locked_for:
            st.error(t("locked", minutes=max(1, math.ceil(locked_for / 60))))
        st.stop()
    correct = hmac.compare_digest(given.encode(), password.encode())
    attempt = _lockout().attempt(who, correct, time.monotonic())
    if attempt.outcome == "ok":
        token = _staff_tokens().issue(password, settings().staff_session_hours * 3600, time.time())
        st.session_state.update(staff=True, staff_token=token)
        st.session_state.pop("staff_cookie_dropped", None)
        st.rerun()
    if attempt.outcome == "wrong":
        time.sleep(1)  # slows one session's guessing down; a person does not notice
        st.error(t("wrong_password"))
    else:
        log.warning("staff login locked for client %s", who)
        st.error(t("locked", minutes=max(1, math.ceil(attempt.locked_for / 60))))
    st.stop()
