"""Who may use the dashboard, and what each role may do.

Users come from a YAML file named by `FLOWREG_USERS`: a mapping of user name to `name`, `role`
(viewer | engineer | officer) and `password_hash` (bcrypt). With `FLOWREG_DEMO=1` the bundled
`demo_users.yaml` is read too; its passwords are public and shown on the sign-in page, which is
why that file is never read outside demo mode. Without either, nobody can sign in.

Roles are checked inside every action that writes (`require`), not only by hiding buttons: a
page that forgets to hide a button still cannot write for the wrong role.

Make a password hash for a users file with:

    .venv/bin/python -m app_pages._auth hash-password
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt

from registry.errors import FlowregError, PermissionDenied, RegistryError
from registry.yamlsource import load_yaml_file

DEMO_FILE = Path(__file__).with_name("demo_users.yaml")
USERS_ENV = "FLOWREG_USERS"
DEMO_ENV = "FLOWREG_DEMO"
USERS_FILE_BYTES = 1024 * 1024  # a users file of thousands of people is a few hundred KB
HASH_COST = 12  # bcrypt cost of the hashes `hash-password` makes
MAX_FAILURES = 5
LOCKOUT_SECONDS = 60.0


class Role(StrEnum):
    VIEWER = "viewer"
    ENGINEER = "engineer"
    OFFICER = "officer"


ROLE_TITLES = {
    Role.VIEWER: "Auditor (read only)",
    Role.ENGINEER: "Engineer (proposes changes)",
    Role.OFFICER: "Privacy officer (approves changes)",
}

# action -> roles allowed to do it
PERMISSIONS: dict[str, frozenset[Role]] = {
    "read": frozenset(Role),
    "propose": frozenset({Role.ENGINEER, Role.OFFICER}),
    "decide": frozenset({Role.OFFICER}),
}
ACTION_WORDS = {
    "read": "read the registry",
    "propose": "propose changes",
    "decide": "approve or reject proposals",
}


@dataclass(frozen=True)
class User:
    """A signed-in user."""

    username: str
    name: str
    role: Role

    def may(self, action: str) -> bool:
        return self.role in PERMISSIONS[action]


@dataclass(frozen=True)
class UserRecord:
    user: User
    password_hash: bytes
    demo_password: str | None = None


def require(user: User | None, action: str) -> User:
    """The user, if their role allows `action`; PermissionDenied otherwise."""
    if action not in PERMISSIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None:
        raise PermissionDenied(f"sign in to {ACTION_WORDS[action]}")
    if not user.may(action):
        allowed = " or ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise PermissionDenied(
            f"{user.username} is signed in as {user.role.value}; only {allowed} may {ACTION_WORDS[action]}"
        )
    return user


def parse_users(data: Any, origin: str, *, demo: bool = False) -> dict[str, UserRecord]:
    """Users from the parsed YAML of a users file; FlowregError naming the entry and field."""
    if not isinstance(data, Mapping) or not data:
        raise FlowregError(f"{origin}: expected a mapping of user name to name, role and password_hash")
    users: dict[str, UserRecord] = {}
    allowed = {"name", "role", "password_hash"} | ({"demo_password"} if demo else set())
    for username, entry in data.items():
        where = f"{origin}: {username}"
        if not isinstance(username, str) or not username.strip():
            raise FlowregError(f"{origin}: user names must be non-empty text")
        if not isinstance(entry, Mapping):
            raise FlowregError(f"{where}: expected name, role and password_hash")
        unknown = sorted(set(map(str, entry)) - allowed)
        if unknown:
            raise FlowregError(f"{where}: unknown field {unknown[0]!r}")
        role = str(entry.get("role", ""))
        if role not in {r.value for r in Role}:
            raise FlowregError(f"{where}.role: must be one of viewer, engineer, officer")
        hashed = entry.get("password_hash")
        if not isinstance(hashed, str) or not hashed.startswith(("$2a$", "$2b$", "$2y$")):
            raise FlowregError(f"{where}.password_hash: expected a bcrypt hash ($2b$...)")
        users[username] = UserRecord(
            User(username, str(entry.get("name") or username), Role(role)),
            hashed.encode("ascii"),
            entry.get("demo_password") if demo else None,
        )
    return users


def _read(path: Path, *, demo: bool) -> dict[str, UserRecord]:
    # The one bounded, alias-guarded YAML reader (registry.yamlsource), as for registries.
    try:
        parsed = load_yaml_file(path, limit=USERS_FILE_BYTES)
    except RegistryError as exc:
        raise FlowregError(f"the users file {path}: {'; '.join(str(i) for i in exc.issues)}") from None
    if parsed.issues:
        problems = "; ".join(str(i) for i in parsed.issues[:5])
        raise FlowregError(f"the users file {path} is not valid YAML: {problems}")
    return parse_users(parsed.value, str(path), demo=demo)


def demo_mode(env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return env.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def configured_users(env: Mapping[str, str] | None = None) -> dict[str, UserRecord]:
    """Everyone who may sign in: the FLOWREG_USERS file, plus the demo users in demo mode
    (a configured user of the same name wins)."""
    env = os.environ if env is None else env
    users: dict[str, UserRecord] = {}
    if demo_mode(env):
        users.update(_read(DEMO_FILE, demo=True))
    path = env.get(USERS_ENV, "").strip()
    if path:
        users.update(_read(Path(path).expanduser(), demo=False))
    if users:
        dummy_hash_for(users)  # made now, so the first wrong name is not slower than the rest
    return users


class _Throttle:
    """Failed sign-ins per user name, process-wide: after MAX_FAILURES in a row the name is
    locked for LOCKOUT_SECONDS (every session shares it, so opening new tabs does not help).

    An attempt reserves its place before its password is checked (`begin`) and settles it after
    (`finish`), all under one lock: attempts still being checked count against the limit, so
    twenty concurrent guesses get at most MAX_FAILURES checks, and a right password sent among
    them waits its turn like any other.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # name -> (failures, time of the last failure, attempts being checked now)
        self._state: dict[str, tuple[int, float, int]] = {}

    def _current(self, username: str, now: float) -> tuple[int, float, int]:
        count, last, pending = self._state.get(username, (0, 0.0, 0))
        if count and now - last > LOCKOUT_SECONDS:
            count = 0  # the lockout (or the run of failures) has expired
        return count, last, pending

    def begin(self, username: str) -> float:
        """0 when the attempt may go ahead (its place is then reserved: call `finish`), else
        the seconds to wait."""
        now = time.monotonic()
        with self._lock:
            count, last, pending = self._current(username, now)
            if count + pending >= MAX_FAILURES:
                # Locked, or the attempts in flight may lock it: wait for the lockout to end.
                return max(last + LOCKOUT_SECONDS - now, 1.0) if count else 1.0
            self._state[username] = (count, last, pending + 1)
            if len(self._state) > 10_000:
                self._forget_expired(now)
            return 0.0

    def finish(self, username: str, ok: bool) -> None:
        """Settle an attempt `begin` let through."""
        now = time.monotonic()
        with self._lock:
            count, last, pending = self._current(username, now)
            pending = max(pending - 1, 0)
            if ok:
                count, last = 0, 0.0
            else:
                count, last = count + 1, now
            if count == 0 and pending == 0:
                self._state.pop(username, None)
            else:
                self._state[username] = (count, last, pending)

    def locked_for(self, username: str) -> float:
        """Seconds until `username` may try again (0: not locked)."""
        now = time.monotonic()
        with self._lock:
            count, last, _pending = self._current(username, now)
        remaining = last + LOCKOUT_SECONDS - now
        return remaining if count >= MAX_FAILURES and remaining > 0 else 0.0

    def _forget_expired(self, now: float) -> None:
        # Guesses at many invented names must not grow this without bound.
        for name, (_count, last, pending) in list(self._state.items()):
            if not pending and now - last > LOCKOUT_SECONDS:
                del self._state[name]


THROTTLE = _Throttle()


def bcrypt_cost(hashed: bytes) -> int:
    """The cost (log2 rounds) written in a bcrypt hash (`$2b$12$...` -> 12); 0 if unreadable."""
    parts = hashed.split(b"$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() else 0


@lru_cache(maxsize=8)
def _dummy_hash(cost: int) -> bytes:
    return bcrypt.hashpw(b"flowreg-no-such-user", bcrypt.gensalt(cost))


def dummy_hash_for(users: Mapping[str, UserRecord]) -> bytes:
    """The hash a wrong user name is checked against: as dear as the dearest configured one, so
    a wrong name costs as much time as a wrong password (the time does not tell which names
    exist)."""
    costs = [bcrypt_cost(r.password_hash) for r in users.values()]
    cost = max((c for c in costs if 4 <= c <= 31), default=HASH_COST)
    return _dummy_hash(cost)


def _check(password: str, hashed: bytes) -> bool:
    """The one bcrypt check every attempt makes, known name or not."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), hashed)
    except ValueError:  # a malformed hash in the users file
        return False


def authenticate(users: Mapping[str, UserRecord], username: str, password: str) -> User:
    """The user whose bcrypt hash matches; PermissionDenied (one message for a wrong name or a
    wrong password) otherwise, or while the name is locked after repeated failures."""
    username = username.strip()
    wait = THROTTLE.begin(username)
    if wait:
        raise PermissionDenied(f"too many failed sign-ins; try again in {int(wait) + 1} seconds")
    record = users.get(username)
    ok = False
    try:
        ok = _check(password, record.password_hash if record else dummy_hash_for(users))
        ok = ok and record is not None
    finally:
        THROTTLE.finish(username, ok)
    if not ok or record is None:
        raise PermissionDenied("unknown user name or wrong password")
    return record.user


# --- signed session cookies -----------------------------------------------------------------------
SESSION_COOKIE = "flowreg_session"
SESSION_ENV = "FLOWREG_SESSION_KEY"
SESSION_SECONDS = 8 * 3600  # a working day; then sign in again
_PROCESS_KEY = secrets.token_bytes(32)
_REVOKED: dict[str, float] = {}  # nonce -> expiry, for tokens signed out before they expire
_REVOKED_LOCK = threading.Lock()


def session_key(env: Mapping[str, str] | None = None) -> bytes:
    """The key session cookies are signed with: FLOWREG_SESSION_KEY (so sign-ins survive a
    server restart and several servers agree), else one random key per server process (they
    survive a reload, not a restart)."""
    env = os.environ if env is None else env
    secret = env.get(SESSION_ENV, "").strip()
    if not secret:
        return _PROCESS_KEY
    if len(secret) < 16:
        raise FlowregError(f"{SESSION_ENV} must be at least 16 characters (a random secret)")
    return hashlib.sha256(b"flowreg-session-key/1\n" + secret.encode("utf-8")).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest())


def issue_token(user: User, *, key: bytes | None = None, now: float | None = None) -> str:
    """A signed token naming `user`, valid for SESSION_SECONDS: the value of the session cookie
    (as streamlit-authenticator keeps its sign-in in a signed cookie). It carries no role: the
    role is read from the users file whenever the token is used."""
    now = time.time() if now is None else now
    body = {"u": user.username, "iat": int(now), "exp": int(now) + SESSION_SECONDS,
            "n": secrets.token_urlsafe(12)}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode("utf-8"))
    return f"{payload}.{_mac(key or session_key(), payload)}"


def _claims(token: str, key: bytes) -> dict[str, Any] | None:
    payload, dot, signature = token.partition(".")
    if not dot or not hmac.compare_digest(_mac(key, payload), signature):
        return None
    try:
        claims = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def user_from_token(
    token: str, users: Mapping[str, UserRecord], *, key: bytes | None = None,
    now: float | None = None,
) -> User | None:
    """The user a session token names, as the users file has them now; None when the token is
    forged, expired, signed out, or names someone who may no longer sign in."""
    if not isinstance(token, str) or not token or len(token) > 1000:
        return None
    claims = _claims(token, key or session_key())
    now = time.time() if now is None else now
    if claims is None or not isinstance(claims.get("exp"), int) or claims["exp"] <= now:
        return None
    with _REVOKED_LOCK:
        if claims.get("n") in _REVOKED:
            return None
    record = users.get(str(claims.get("u")))
    return record.user if record is not None else None


def revoke_token(token: str, *, key: bytes | None = None) -> None:
    """Sign a token out before it expires (sign-out): it is refused from now on."""
    if not isinstance(token, str):
        return
    claims = _claims(token, key or session_key())
    if claims is None:
        return
    now = time.time()
    with _REVOKED_LOCK:
        for nonce, expiry in list(_REVOKED.items()):
            if expiry <= now:
                del _REVOKED[nonce]
        _REVOKED[str(claims.get("n"))] = float(claims.get("exp") or now)


def hash_password(password: str) -> str:
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(HASH_COST)).decode("ascii")


def main(argv: list[str]) -> int:
    """`python -m app_pages._auth hash-password`: print a bcrypt hash for a users file.

    On a terminal it asks twice without echoing; with a password piped in (`printf '%s\\n'
    "$PW" | ...`) it reads the first line, so scripts can make hashes too.
    """
    if argv[1:] != ["hash-password"]:
        print("usage: python -m app_pages._auth hash-password", file=sys.stderr)
        return 2
    import getpass

    try:
        if sys.stdin.isatty():
            first = getpass.getpass("password: ")
            if first != getpass.getpass("again: "):
                print("error: the passwords differ", file=sys.stderr)
                return 1
        else:
            first = sys.stdin.readline(4096).rstrip("\r\n")
    except (EOFError, KeyboardInterrupt):
        print("\nerror: no password given", file=sys.stderr)
        return 1
    if not first:
        print("error: the password is empty", file=sys.stderr)
        return 1
    print(hash_password(first))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
