"""Sign-in hardening with real bcrypt and real threads: the lockout holds under concurrent
attempts, and a wrong user name costs exactly what a wrong password costs (the same bcrypt check
at the same cost), so response time does not tell which names exist.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import bcrypt
import pytest

from app_pages import _auth
from registry.errors import FlowregError, PermissionDenied

PASSWORD = "correct horse battery"


@pytest.fixture
def users() -> dict[str, _auth.UserRecord]:
    hashed = _auth.hash_password(PASSWORD).encode("ascii")
    return {"alice": _auth.UserRecord(_auth.User("alice", "Alice", _auth.Role.OFFICER), hashed)}


@pytest.fixture(autouse=True)
def fresh_throttle(monkeypatch: pytest.MonkeyPatch) -> _auth._Throttle:
    throttle = _auth._Throttle()
    monkeypatch.setattr(_auth, "THROTTLE", throttle)
    return throttle


def _attempt(users: dict[str, _auth.UserRecord], username: str, password: str) -> str:
    try:
        _auth.authenticate(users, username, password)
    except PermissionDenied as exc:
        return exc.message
    return "signed in"


def _concurrently(count: int, action: Callable[[], str], late: Callable[[], str] | None = None,
                  ) -> tuple[list[str], str | None]:
    """Run `action` in `count` threads released at once; `late` starts while they are in flight."""
    barrier = threading.Barrier(count + 1)
    results: list[str] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        outcome = action()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    late_result = None
    if late is not None:
        time.sleep(0.02)  # the others are inside bcrypt (about 0.2 s each at cost 12)
        late_result = late()
    for thread in threads:
        thread.join()
    return results, late_result


def test_concurrent_wrong_passwords_are_checked_at_most_max_failures_times(users: Any) -> None:
    results, _ = _concurrently(20, lambda: _attempt(users, "alice", "guess"))
    checked = [r for r in results if "wrong password" in r]
    refused = [r for r in results if "too many" in r]
    assert len(checked) <= _auth.MAX_FAILURES, results
    assert len(checked) + len(refused) == 20
    assert "too many" in _attempt(users, "alice", PASSWORD), "the name is locked now"


def test_a_right_password_among_concurrent_failures_does_not_get_in(users: Any) -> None:
    results, late = _concurrently(14, lambda: _attempt(users, "alice", "guess"),
                                  late=lambda: _attempt(users, "alice", PASSWORD))
    assert late != "signed in", "the right password slipped in while 14 failures were in flight"
    assert "too many" in _attempt(users, "alice", PASSWORD)


def test_lockout_ends_and_a_success_resets(users: Any, fresh_throttle: _auth._Throttle,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(_auth.time, "monotonic", lambda: clock[0])
    for _ in range(_auth.MAX_FAILURES):
        assert "wrong password" in _attempt(users, "alice", "guess")
    assert "too many" in _attempt(users, "alice", PASSWORD)
    clock[0] += _auth.LOCKOUT_SECONDS + 1
    assert _attempt(users, "alice", PASSWORD) == "signed in"
    assert "wrong password" in _attempt(users, "alice", "guess"), "the count starts again"


def test_unknown_and_known_names_cost_the_same_bcrypt_check(users: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Parity by construction, not by stopwatch: both paths make one bcrypt check, at one cost."""
    checked: list[bytes] = []
    real = bcrypt.checkpw

    def observed(password: bytes, hashed: bytes) -> bool:
        checked.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(_auth.bcrypt, "checkpw", observed)
    _attempt(users, "alice", "wrong")
    _attempt(users, "mallory", "wrong")
    assert len(checked) == 2, "each attempt runs exactly one bcrypt check"
    known, unknown = (_auth.bcrypt_cost(h) for h in checked)
    assert known == unknown == 12


def test_the_dummy_hash_follows_the_dearest_configured_cost() -> None:
    cheap = bcrypt.hashpw(b"x", bcrypt.gensalt(5))
    users = {"bob": _auth.UserRecord(_auth.User("bob", "Bob", _auth.Role.VIEWER), cheap)}
    assert _auth.bcrypt_cost(_auth.dummy_hash_for(users)) == 5
    assert _auth.bcrypt_cost(_auth.dummy_hash_for({})) == _auth.HASH_COST


# --- signed session cookies (sign-in survives a reload) -------------------------------------------
def test_a_session_token_signs_the_user_back_in(users: Any) -> None:
    token = _auth.issue_token(users["alice"].user, key=b"k" * 32, now=1000.0)
    back = _auth.user_from_token(token, users, key=b"k" * 32, now=1000.0 + 60)
    assert back == users["alice"].user


def test_a_session_token_is_refused_when_forged_expired_revoked_or_orphaned(users: Any) -> None:
    key = b"k" * 32
    token = _auth.issue_token(users["alice"].user, key=key, now=1000.0)
    payload, signature = token.split(".")
    tampered = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    assert _auth.user_from_token(tampered, users, key=key, now=1001.0) is None
    assert _auth.user_from_token(token, users, key=b"x" * 32, now=1001.0) is None, "another key"
    assert _auth.user_from_token(token, users, key=key, now=1000.0 + _auth.SESSION_SECONDS + 1) is None
    assert _auth.user_from_token(token, {}, key=key, now=1001.0) is None, "the user was removed"
    assert _auth.user_from_token("garbage", users, key=key, now=1001.0) is None
    assert _auth.user_from_token("", users, key=key, now=1001.0) is None
    _auth.revoke_token(token, key=key)
    assert _auth.user_from_token(token, users, key=key, now=1001.0) is None, "signed out"


def test_the_role_comes_from_the_users_file_not_the_token(users: Any) -> None:
    key = b"k" * 32
    token = _auth.issue_token(users["alice"].user, key=key, now=1000.0)
    demoted = {"alice": _auth.UserRecord(_auth.User("alice", "Alice", _auth.Role.VIEWER), users["alice"].password_hash)}
    assert _auth.user_from_token(token, demoted, key=key, now=1001.0).role is _auth.Role.VIEWER


def test_the_session_key_comes_from_the_environment() -> None:
    assert _auth.session_key({"FLOWREG_SESSION_KEY": "a long enough secret"}) == \
        _auth.session_key({"FLOWREG_SESSION_KEY": "a long enough secret"})
    assert _auth.session_key({}) == _auth.session_key({}), "one random key per server process"
    with pytest.raises(FlowregError, match="FLOWREG_SESSION_KEY"):
        _auth.session_key({"FLOWREG_SESSION_KEY": "short"})
