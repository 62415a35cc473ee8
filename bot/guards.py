"""Guards of the app that must hold across page reloads, tabs and sessions: a question limit per
client and per server process, a lockout after repeated wrong staff passwords, and signed,
expiring staff-session tokens (the staff login cookie).

Pure and UI-free: every method takes ``now`` in seconds so tests drive the clock, and nothing here
reads a request. The app keeps one instance of each per server process (``ui.py``) and keys them
by ``client_key``: the visitor's address, not the page session a reload replaces. Memory is
bounded: keys whose events have aged out are swept, and past ``max_clients`` the key used least
recently is dropped (that client starts afresh; the per-process cap still holds).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass

MAX_CLIENTS = 10_000
QUESTION_WINDOW = 60.0
# Staff login: 5 wrong passwords within 10 minutes lock the client out for 10 minutes. A person
# who mistypes does not reach 5; a guesser gets 30 tries an hour instead of thousands.
MAX_FAILURES = 5
FAILURE_WINDOW = 600.0
LOCK_SECONDS = 600.0
ALL_CLIENTS = "*"


class _Recent:
    """Event times per key over the last ``window`` seconds, oldest first. Not locked: the
    guards below hold their lock around every use."""

    def __init__(self, window: float, max_keys: int):
        self.window = window
        self.max_keys = max_keys
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._next_sweep = 0.0

    def __len__(self) -> int:
        return len(self._events)

    def events(self, key: str, now: float) -> deque[float]:
        """The key's events still inside the window (an empty deque when none)."""
        events = self._events.get(key)
        if events is None:
            return deque()
        while events and now - events[0] >= self.window:
            events.popleft()
        if not events:
            del self._events[key]
        return events

    def add(self, key: str, now: float) -> None:
        self._sweep(now)
        events = self._events.get(key)
        if events is None:
            while len(self._events) >= self.max_keys:
                self._events.popitem(last=False)
            events = self._events[key] = deque()
        else:
            self._events.move_to_end(key)
        events.append(now)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)

    def wait(self, key: str, limit: int, now: float) -> float:
        """Seconds until the key has fewer than ``limit`` events in the window (0 if it has)."""
        events = self.events(key, now)
        if len(events) < limit:
            return 0.0
        return max(0.0, events[len(events) - limit] + self.window - now)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        for key in list(self._events):
            self.events(key, now)


@dataclass(frozen=True)
class Admission:
    """Whether a question may be asked now; ``reason`` is ``ok``, ``client`` (this client asked
    its limit in the last minute) or ``busy`` (all clients together did); ``retry_after`` in s."""

    allowed: bool
    reason: str
    retry_after: float = 0.0


class QuestionGate:
    """A sliding one-minute window of questions per client and for the whole process.

    A refused question is not counted, so a client that keeps pressing is admitted again as soon
    as its oldest admitted question is a minute old.
    """

    def __init__(self, window: float = QUESTION_WINDOW, max_clients: int = MAX_CLIENTS):
        self._asked = _Recent(window, max_clients + 1)  # + the process-wide key
        self._lock = threading.Lock()

    def admit(self, client: str, per_client: int, per_process: int, now: float) -> Admission:
        """Admit (and count) a question of ``client`` unless a limit is reached."""
        with self._lock:
            wait = self._asked.wait(client, max(1, per_client), now)
            if wait:
                return Admission(False, "client", wait)
            wait = self._asked.wait(ALL_CLIENTS, max(1, per_process), now)
            if wait:
                return Admission(False, "busy", wait)
            self._asked.add(client, now)
            self._asked.add(ALL_CLIENTS, now)
            return Admission(True, "ok")

    def clients(self) -> int:
        """How many client keys are held (for tests of the memory bound)."""
        with self._lock:
            return len(self._asked)


@dataclass(frozen=True)
class Attempt:
    """The outcome of a staff password attempt: ``ok``, ``wrong`` (``left`` tries before the
    lock) or ``locked`` (for ``locked_for`` more seconds; the password was not even looked at)."""

    outcome: str
    left: int = 0
    locked_for: float = 0.0


class Lockout:
    """Wrong staff passwords per client; ``max_failures`` within ``window`` lock it out for
    ``lock_seconds``. While locked every attempt is refused, the right password too."""

    def __init__(self, max_failures: int = MAX_FAILURES, window: float = FAILURE_WINDOW,
                 lock_seconds: float = LOCK_SECONDS, max_clients: int = MAX_CLIENTS):
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds
        self._failures = _Recent(window, max_clients)
        self._locked = _Recent(lock_seconds, max_clients)
        self._lock = threading.Lock()

    def locked_for(self, client: str, now: float) -> float:
        """Seconds the client stays locked out (0 when it may try)."""
        with self._lock:
            return self._locked.wait(client, 1, now)

    def attempt(self, client: str, correct: bool, now: float) -> Attempt:
        """Record an attempt whose password was ``correct`` or not, atomically with the lock check
        (parallel sessions of one client cannot slip extra guesses in between)."""
        with self._lock:
            wait = self._locked.wait(client, 1, now)
            if wait:
                return Attempt("locked", locked_for=wait)
            if correct:
                self._failures.clear(client)
                return Attempt("ok")
            self._failures.add(client, now)
            failures = len(self._failures.events(client, now))
            if failures >= self.max_failures:
                self._failures.clear(client)
                self._locked.add(client, now)
                return Attempt("locked", locked_for=self.lock_seconds)
            return Attempt("wrong", left=self.max_failures - failures)


TOKEN_PATTERN = re.compile(r"(\d{10})\.([0-9a-f]{32})\.([0-9a-f]{64})")


class StaffTokens:
    """Signed, expiring staff-session tokens ``<expires>.<nonce>.<mac>`` (digits, hex and dots).

    The MAC is HMAC-SHA256 of ``<expires>.<nonce>`` under a key derived from the server secret and
    the staff password. A token holds no password, and without the server secret it cannot be
    used to test guesses of one offline; changing the password or the secret ends every session.
    Logging out revokes the token's nonce until the token would have expired.
    """

    def __init__(self, secret: str | bytes, max_revoked: int = MAX_CLIENTS):
        self._secret = secret.encode() if isinstance(secret, str) else bytes(secret)
        if len(self._secret) < 16:
            raise ValueError("the server secret must be at least 16 bytes")
        self._revoked: dict[str, float] = {}  # nonce -> when its token expires
        self._max_revoked = max_revoked
        self._lock = threading.Lock()

    def _mac(self, password: str, payload: str) -> str:
        key = hmac.new(self._secret, b"bot staff session\0" + password.encode(), hashlib.sha256).digest()
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, password: str, lifetime: float, now: float) -> str:
        """A new token that is valid for ``lifetime`` seconds from ``now``."""
        payload = f"{int(now + lifetime):010d}.{secrets.token_hex(16)}"
        return f"{payload}.{self._mac(password, payload)}"

    @staticmethod
    def expires(token: str) -> int | None:
        """When a well-formed token expires (Unix seconds); None for anything else."""
        match = TOKEN_PATTERN.fullmatch(token) if isinstance(token, str) and len(token) < 120 else None
        return int(match.group(1)) if match else None

    def valid(self, token: str | None, password: str, now: float) -> bool:
        """True for an unexpired, unrevoked token signed for this password and secret."""
        expires = self.expires(token or "")
        if expires is None or expires <= now:
            return False
        payload, _, mac = token.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(password, payload)):
            return False
        with self._lock:
            return payload.split(".")[1] not in self._revoked

    def revoke(self, token: str, now: float) -> None:
        """End a session (log out) in every tab that holds the token."""
        expires = self.expires(token or "")
        if expires is None or expires <= now:
            return
        with self._lock:
            for nonce in [n for n, until in self._revoked.items() if until <= now]:
                del self._revoked[nonce]
            self._revoked[token.split(".")[1]] = expires
            while len(self._revoked) > self._max_revoked:
                soonest = min(self._revoked, key=self._revoked.__getitem__)
                del self._revoked[soonest]


def client_key(peer: str | None, forwarded_for: Iterable[str] = (), trusted_proxies: int = 0) -> str:
    """The key the guards count a visitor under: its address, an IPv6 one as its /64 network
    (one subscriber's allocation, so address hopping inside it does not help).

    With ``trusted_proxies`` = N > 0 the address is the N-th entry from the right of
    X-Forwarded-For (the one the outermost trusted proxy saw); entries further left are written
    by the client and ignored. A missing or unreadable entry falls back to the TCP ``peer``.
    """
    address = peer
    if trusted_proxies > 0:
        hops = [hop.strip() for header in forwarded_for for hop in header.split(",") if hop.strip()]
        if len(hops) >= trusted_proxies and _address(hops[-trusted_proxies]) is not None:
            address = hops[-trusted_proxies]
    parsed = _address(address)
    if parsed is None:
        return "unknown"
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def _address(text: str | None):
    try:
        parsed = ipaddress.ip_address((text or "").strip("[]"))
    except ValueError:
        return None
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed
