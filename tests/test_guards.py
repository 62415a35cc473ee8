"""The app's guards without a browser: the question limit per client and per process, the staff
lockout, staff-session tokens and the client key. Every clock is passed in, so these are exact and
fast; ``tests/test_browser.py`` shows the same guards holding across reloads in Chromium."""
import threading

import pytest

from bot.errors import BadSettings
from bot.guards import ALL_CLIENTS, Lockout, QuestionGate, StaffTokens, client_key
from bot.settings import Settings

SECRET = "0123456789abcdef0123456789abcdef"
PASSWORD = "직원-비밀번호-2024"
HOUR = 3600.0


# --- the question limit -----------------------------------------------------------------------

def test_a_client_is_limited_per_minute_and_admitted_again_as_its_oldest_question_ages():
    gate = QuestionGate()
    assert [gate.admit("203.0.113.1", 3, 100, t).allowed for t in (0, 10, 20)] == [True] * 3
    refused = gate.admit("203.0.113.1", 3, 100, 30)
    assert (refused.allowed, refused.reason, refused.retry_after) == (False, "client", 30)
    assert not gate.admit("203.0.113.1", 3, 100, 59.9).allowed  # refused tries are not counted ...
    assert gate.admit("203.0.113.1", 3, 100, 60).allowed  # ... so the first question's minute is up
    assert gate.admit("203.0.113.2", 3, 100, 60).allowed  # another client was never limited


def test_all_clients_together_are_capped_per_process():
    gate = QuestionGate()
    assert all(gate.admit(f"198.51.100.{n}", 10, 5, 0).allowed for n in range(5))
    busy = gate.admit("198.51.100.99", 10, 5, 1)
    assert (busy.allowed, busy.reason, busy.retry_after) == (False, "busy", 59)
    assert gate.admit("198.51.100.99", 10, 5, 60).allowed


def test_a_client_over_its_own_limit_does_not_use_up_the_process_cap():
    gate = QuestionGate()
    gate.admit("a", 1, 3, 0)
    for _ in range(10):
        assert gate.admit("a", 1, 3, 1).reason == "client"
    assert gate.admit("b", 1, 3, 1).allowed and gate.admit("c", 1, 3, 1).allowed


def test_parallel_sessions_of_one_client_get_exactly_the_limit():
    gate = QuestionGate()
    admitted = []
    start = threading.Barrier(20)

    def ask():
        start.wait()
        admitted.append(gate.admit("192.0.2.7", 4, 100, 5.0).allowed)

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 4


def test_memory_is_bounded_and_old_clients_expire():
    gate = QuestionGate(max_clients=100)
    for n in range(1000):
        gate.admit(f"client-{n}", 10, 10_000, 0)
    assert gate.clients() <= 101  # the clients kept, and the process-wide count
    gate.admit("late", 10, 10_000, 61)  # a minute on, the sweep drops every aged-out key
    assert gate.clients() == 2
    assert ALL_CLIENTS == "*"


# --- the staff lockout ------------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_client_even_against_the_right_one():
    lockout = Lockout()
    outcomes = [lockout.attempt("203.0.113.9", False, t) for t in (0, 10, 20, 30)]
    assert [(a.outcome, a.left) for a in outcomes] == [("wrong", 4), ("wrong", 3), ("wrong", 2), ("wrong", 1)]
    fifth = lockout.attempt("203.0.113.9", False, 40)
    assert (fifth.outcome, fifth.locked_for) == ("locked", 600)
    right = lockout.attempt("203.0.113.9", True, 100)
    assert (right.outcome, right.locked_for) == ("locked", 540)
    assert lockout.locked_for("203.0.113.9", 100) == 540
    assert lockout.attempt("203.0.113.10", True, 100).outcome == "ok"  # another client is not locked
    assert lockout.attempt("203.0.113.9", True, 640).outcome == "ok"  # ten minutes on
    assert lockout.locked_for("203.0.113.9", 640) == 0


def test_failures_older_than_the_window_and_before_a_success_do_not_count():
    lockout = Lockout()
    for t in (0, 1, 2, 3):
        lockout.attempt("c", False, t)
    assert lockout.attempt("c", False, 601).outcome == "wrong"  # the first four are 10 minutes old
    for t in (700, 701, 702):
        lockout.attempt("d", False, t)
    assert lockout.attempt("d", True, 703).outcome == "ok"
    assert lockout.attempt("d", False, 704).left == 4


def test_parallel_guesses_of_one_client_stop_at_the_limit():
    lockout = Lockout()
    outcomes = []
    start = threading.Barrier(20)

    def guess():
        start.wait()
        outcomes.append(lockout.attempt("192.0.2.8", False, 1.0).outcome)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("wrong") == 4 and outcomes.count("locked") == 16


# --- staff-session tokens ---------------------------------------------------------------------

def test_a_token_is_valid_until_it_expires_and_never_holds_the_password():
    tokens = StaffTokens(SECRET)
    token = tokens.issue(PASSWORD, 8 * HOUR, 1_700_000_000)
    assert StaffTokens.expires(token) == 1_700_000_000 + 8 * HOUR
    assert tokens.valid(token, PASSWORD, 1_700_000_000 + 8 * HOUR - 1)
    assert not tokens.valid(token, PASSWORD, 1_700_000_000 + 8 * HOUR)
    assert PASSWORD not in token and PASSWORD.encode().hex() not in token
    assert set(token) <= set("0123456789abcdef.")
    assert token != tokens.issue(PASSWORD, 8 * HOUR, 1_700_000_000)  # a fresh nonce every login


def test_a_token_is_refused_when_tampered_with_or_for_another_password_or_secret():
    now = 1_700_000_000
    tokens = StaffTokens(SECRET)
    token = tokens.issue(PASSWORD, HOUR, now)
    expires, nonce, mac = token.split(".")
    later = f"{int(expires) + 36_000:010d}.{nonce}.{mac}"
    other_nonce = f"{expires}.{'0' * 32}.{mac}"
    flipped = f"{expires}.{nonce}.{mac[:-1]}{'0' if mac[-1] != '0' else '1'}"
    for forged in (later, other_nonce, flipped, token + "0", token.upper(), "", "x" * 5000, "가" * 10, None):
        assert not tokens.valid(forged, PASSWORD, now), forged
    assert not tokens.valid(token, "다른 비밀번호", now)  # changing the password ends every session
    assert not StaffTokens("another-secret-of-32-characters!").valid(token, PASSWORD, now)
    with pytest.raises(ValueError):
        StaffTokens("short")


def test_logging_out_revokes_the_token_everywhere_and_only_that_token():
    now = 1_700_000_000
    tokens = StaffTokens(SECRET)
    first, second = tokens.issue(PASSWORD, HOUR, now), tokens.issue(PASSWORD, HOUR, now)
    tokens.revoke(first, now + 1)
    assert not tokens.valid(first, PASSWORD, now + 2)
    assert tokens.valid(second, PASSWORD, now + 2)
    tokens.revoke("not a token", now)  # ignored


def test_revocations_are_bounded_and_drop_what_has_expired():
    now = 1_700_000_000
    tokens = StaffTokens(SECRET, max_revoked=10)
    issued = [tokens.issue(PASSWORD, HOUR + n, now) for n in range(30)]
    for token in issued:
        tokens.revoke(token, now)
    assert len(tokens._revoked) == 10
    assert not tokens.valid(issued[-1], PASSWORD, now)  # the latest-expiring are kept
    tokens.revoke(tokens.issue(PASSWORD, HOUR, now + 2 * HOUR), now + 2 * HOUR)
    assert len(tokens._revoked) == 1


# --- whom the guards count --------------------------------------------------------------------

@pytest.mark.parametrize("peer, forwarded, trusted, key", [
    ("203.0.113.5", [], 0, "203.0.113.5"),
    ("203.0.113.5", ["198.51.100.1"], 0, "203.0.113.5"),  # a header the client sent itself
    ("127.0.0.1", ["198.51.100.1"], 1, "198.51.100.1"),  # behind one trusted proxy
    ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], 1, "198.51.100.1"),  # a spoofed left part is ignored
    ("127.0.0.1", ["6.6.6.6", "198.51.100.1, 10.0.0.2"], 2, "198.51.100.1"),  # two proxies
    ("127.0.0.1", ["198.51.100.1"], 2, "127.0.0.1"),  # fewer hops than proxies: the peer
    ("127.0.0.1", ["not-an-address"], 1, "127.0.0.1"),
    ("127.0.0.1", [], 1, "127.0.0.1"),
    ("2001:db8:1:2:aaaa::1", [], 0, "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::9", [], 0, "2001:db8:1:2::/64"),  # one subscriber's /64 is one client
    ("::ffff:203.0.113.5", [], 0, "203.0.113.5"),
    (None, [], 0, "unknown"),
])
def test_client_key(peer, forwarded, trusted, key):
    assert client_key(peer, forwarded, trusted) == key


# --- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    ({"rate_limit_per_minute": 0}, "rate_limit_per_minute"),
    ({"rate_limit_total_per_minute": 0}, "rate_limit_total_per_minute"),
    ({"trusted_proxies": -1}, "trusted_proxies"),
    ({"staff_session_hours": 0}, "staff_session_hours"),
])
def test_guard_settings_are_validated(changes, message):
    with pytest.raises(BadSettings, match=message):
        Settings(**changes)


def test_guard_settings_come_from_the_environment():
    config = Settings.from_env({"BOT_RATE_LIMIT_TOTAL_PER_MINUTE": "30", "BOT_TRUSTED_PROXIES": "1",
                                "BOT_STAFF_SESSION_HOURS": "0.5"})
    assert (config.rate_limit_total_per_minute, config.trusted_proxies, config.staff_session_hours) == (30, 1, 0.5)
