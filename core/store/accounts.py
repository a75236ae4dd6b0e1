"""Accounts, sessions, lockout and the first-boot setup code of the maintenance page (the
``web_accounts``, ``web_sessions`` and login-failure tables; passwords: :mod:`core.credentials`).

* There is no default password: while no account exists the kiosk screen shows a one-time
  setup code, and whoever types it on the maintenance page creates the first account.
* Repeated failures lock the account name and the client address with a delay that doubles
  with each further failure (capped), measured on the injected clock.
* A session is a random cookie; only its SHA-256 is stored. It ends after ``idle`` without a
  request or ``max_age`` after login, whichever comes first. Each session has its own CSRF
  token, required on every state-changing request.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.clock import Clock
from core.credentials import (
    MIN_PASSWORD_CHARS,
    LockoutPolicy,
    LoginRefused,
    check_new_password,
    check_username,
    hash_password,
    verify_password,
)
from core.errors import AuthError
from core.store.tx import write_transaction

log = logging.getLogger(__name__)

SETUP_CODE_KEY = "web.setup_code"
SETUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a screen


def count_accounts(conn: sqlite3.Connection) -> int:
    """How many maintenance page accounts exist (``web_accounts``). Read-only."""
    return int(conn.execute("SELECT count(*) FROM web_accounts").fetchone()[0])


class Role(enum.StrEnum):
    TECHNICIAN = "technician"  # diagnostics, logs, network, time, restart, configuration
    ADMIN = "admin"  # Admin PD: employees, enrolment, cards, fingers, punches, export, accounts


@dataclass(frozen=True)
class Account:
    username: str
    roles: frozenset[Role]
    active: bool
    created_at: str
    created_by: str

    def has(self, role: Role) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Session:
    username: str
    roles: frozenset[Role]
    csrf_token: str
    created_at: datetime
    last_seen: datetime


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split(",") if r)


class Accounts:
    """Accounts, sessions and login failures in the unit's database."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        clock: Clock,
        *,
        idle: timedelta = timedelta(minutes=30),
        max_age: timedelta = timedelta(hours=12),
        lockout: LockoutPolicy | None = None,
        randbytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.conn = conn
        self.clock = clock
        self.idle = idle
        self.max_age = max_age
        self.lockout = lockout or LockoutPolicy()
        self._randbytes = randbytes

    def __repr__(self) -> str:
        return f"Accounts(idle={self.idle}, lockout={self.lockout})"

    def _now(self) -> datetime:
        return self.clock.now()

    def _token(self, nbytes: int = 32) -> str:
        return base64.urlsafe_b64encode(self._randbytes(nbytes)).decode().rstrip("=")

    # -- first boot --------------------------------------------------------------------------

    def count(self) -> int:
        """How many accounts exist. Read-only."""
        return count_accounts(self.conn)

    def setup_code(self) -> str | None:
        """The one-time setup code while no account exists (made on first call); None after."""
        if self.count():
            return None
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (SETUP_CODE_KEY,)).fetchone()
        if row is not None:
            return str(row["value"])
        code = "".join(SETUP_ALPHABET[b % len(SETUP_ALPHABET)] for b in self._randbytes(8))
        code = f"{code[:4]}-{code[4:]}"
        with write_transaction(self.conn, "making the setup code"):
            self.conn.execute(
                "INSERT OR IGNORE INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
                (SETUP_CODE_KEY, code, self._now().isoformat(timespec="seconds")),
            )
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", (SETUP_CODE_KEY,)).fetchone()
        log.info("first-boot setup code made (shown on the kiosk screen)")
        return str(row["value"])

    def create_first(self, code: str, username: str, password: str, addr: str) -> Account:
        """Use the setup code to create the first account (both roles); the code then dies."""
        keys = self._keys(addr)
        self._reserve(keys)
        expected = self.setup_code()
        if expected is None:
            raise AuthError("the unit already has an account; log in", screen_text="Akun pertama sudah dibuat; silakan masuk")
        # as typed from the screen: with or without its dash, in any case, with stray spaces
        given, wanted = (re.sub(r"[^0-9A-Z]", "", c.upper()) for c in (code, expected))
        if not given or not hmac.compare_digest(given.encode(), wanted.encode()):
            log.warning("wrong setup code")
            raise AuthError("wrong setup code", screen_text="Kode penyiapan salah (lihat layar kiosk)")
        self._clear(keys)  # the code was right: a weak password is not a guess
        name = check_username(username)
        check_new_password(password, name)
        with write_transaction(self.conn, "creating the first account"):
            if self.conn.execute("SELECT count(*) FROM web_accounts").fetchone()[0]:
                raise AuthError("the unit already has an account; log in", screen_text="Akun pertama sudah dibuat")
            self._insert(name, frozenset(Role), password, "setup-code")
            self.conn.execute("DELETE FROM settings WHERE key = ?", (SETUP_CODE_KEY,))
        return self.get(name)  # type: ignore[return-value]

    # -- accounts ----------------------------------------------------------------------------

    def _insert(self, name: str, roles: Iterable[Role], password: str, by: str) -> None:
        self.conn.execute(
            "INSERT INTO web_accounts (username, roles, password_hash, active, created_at, created_by) VALUES (?, ?, ?, 1, ?, ?)",
            (
                name,
                ",".join(sorted(Role(r).value for r in roles)),
                hash_password(password, randbytes=self._randbytes),
                self._now().isoformat(timespec="seconds"),
                by,
            ),
        )

    def create(self, username: str, password: str, roles: Iterable[Role], *, by: str) -> Account:
        name = check_username(username)
        check_new_password(password, name)
        wanted = frozenset(Role(r) for r in roles)
        if not wanted:
            raise AuthError("choose at least one role", screen_text="Pilih minimal satu peran")
        if self.get(name) is not None:
            raise AuthError(f"user {name} exists", screen_text=f"Pengguna {name} sudah ada")
        with write_transaction(self.conn, f"creating account {name}"):
            self._insert(name, wanted, password, by)
        return self.get(name)  # type: ignore[return-value]

    def get(self, username: str) -> Account | None:
        """Read-only."""
        row = self.conn.execute("SELECT * FROM web_accounts WHERE username = ?", (username,)).fetchone()
        if row is None:
            return None
        return Account(row["username"], _roles(row["roles"]), bool(row["active"]), row["created_at"], row["created_by"])

    def all(self) -> list[Account]:
        """Read-only."""
        rows = self.conn.execute("SELECT * FROM web_accounts ORDER BY username").fetchall()
        return [Account(r["username"], _roles(r["roles"]), bool(r["active"]), r["created_at"], r["created_by"]) for r in rows]

    def set_active(self, username: str, active: bool) -> None:
        with write_transaction(self.conn, f"changing account {username}"):
            self.conn.execute("UPDATE web_accounts SET active = ? WHERE username = ?", (int(active), username))
            if not active:
                self.conn.execute("DELETE FROM web_sessions WHERE username = ?", (username,))

    # -- login and lockout -------------------------------------------------------------------

    def _keys(self, addr: str, name: str | None = None) -> list[tuple[str, float | None]]:
        """What a login attempt counts against, each with the longest lock it can bring: the
        client's address (growing to the policy's maximum) and, for a name, the name itself
        (at most the first delay: anyone may type a known name, so it must never lock its owner
        out for an hour)."""
        keys: list[tuple[str, float | None]] = [(f"addr:{addr}", None)]
        if name is not None:
            keys.append((f"user:{name}", self.lockout.base_s))
        return keys

    def _reserve(self, keys: list[tuple[str, float | None]]) -> None:
        """Count this attempt as a failure *before* the password is checked, in one write
        transaction with the lock check: concurrent attempts cannot all slip under the limit
        (a success clears the count again). Raises :class:`LoginRefused` while locked."""
        now = self._now()
        with write_transaction(self.conn, "counting a login attempt"):
            for key, _cap in keys:
                row = self.conn.execute("SELECT locked_until FROM web_login_failures WHERE key = ?", (key,)).fetchone()
                if row is not None and row["locked_until"] and _parse(row["locked_until"]) > now:
                    wait = (_parse(row["locked_until"]) - now).total_seconds()
                    raise LoginRefused(
                        f"locked after repeated failures; try again in {wait:.0f} s",
                        screen_text=f"Terlalu banyak percobaan gagal. Coba lagi dalam {wait:.0f} detik.",
                        retry_after_s=wait,
                    )
            for key, cap in keys:
                row = self.conn.execute("SELECT failures FROM web_login_failures WHERE key = ?", (key,)).fetchone()
                failures = (row["failures"] if row else 0) + 1
                delay = self.lockout.delay_s(failures)
                if cap is not None:
                    delay = min(delay, cap)
                until = (now + timedelta(seconds=delay)).isoformat() if delay else None
                self.conn.execute(
                    """INSERT INTO web_login_failures (key, failures, last_failure_at, locked_until) VALUES (?, ?, ?, ?)
                       ON CONFLICT(key) DO UPDATE SET failures = excluded.failures,
                         last_failure_at = excluded.last_failure_at, locked_until = excluded.locked_until""",
                    (key, failures, now.isoformat(), until),
                )

    def _clear(self, keys: list[tuple[str, float | None]]) -> None:
        with write_transaction(self.conn, "clearing login failures"):
            for key, _cap in keys:
                self.conn.execute("DELETE FROM web_login_failures WHERE key = ?", (key,))

    def authenticate(self, username: str, password: str, addr: str) -> Account:
        """The account, or :class:`LoginRefused` (wrong, inactive, or locked)."""
        name = username.strip().lower()
        keys = self._keys(addr, name)
        self._reserve(keys)
        row = self.conn.execute("SELECT password_hash, active FROM web_accounts WHERE username = ?", (name,)).fetchone()
        # Hash even for an unknown name so timing does not tell which names exist.
        stored = row["password_hash"] if row else hash_password("x" * MIN_PASSWORD_CHARS, randbytes=self._randbytes)
        good = verify_password(password, stored) and row is not None and bool(row["active"])
        if not good:
            log.warning("failed maintenance login")
            raise LoginRefused("wrong user name or password", screen_text="Nama pengguna atau kata sandi salah")
        self._clear(keys)
        return self.get(name)  # type: ignore[return-value]

    def failures(self, key: str) -> int:
        """Consecutive failures counted for ``key``. Read-only."""
        row = self.conn.execute("SELECT failures FROM web_login_failures WHERE key = ?", (key,)).fetchone()
        return int(row["failures"]) if row else 0

    # -- sessions ----------------------------------------------------------------------------

    def open_session(self, account: Account) -> tuple[str, Session]:
        """A new session: (cookie value, session)."""
        token = self._token()
        now = self._now()
        csrf = self._token()
        with write_transaction(self.conn, "opening a session"):
            self.conn.execute(
                "INSERT INTO web_sessions (token_hash, username, csrf_token, created_at, last_seen) VALUES (?, ?, ?, ?, ?)",
                (_token_hash(token), account.username, csrf, now.isoformat(), now.isoformat()),
            )
        return token, Session(account.username, account.roles, csrf, now, now)

    def session(self, token: str | None, *, touch: bool = True) -> Session | None:
        """The live session for a cookie value, or None (unknown, expired, account disabled)."""
        if not token or len(token) > 200:
            return None
        key = _token_hash(token)
        row = self.conn.execute(
            """SELECT s.*, a.roles, a.active FROM web_sessions s JOIN web_accounts a USING (username)
               WHERE s.token_hash = ?""",
            (key,),
        ).fetchone()
        if row is None:
            return None
        now = self._now()
        created, seen = _parse(row["created_at"]), _parse(row["last_seen"])
        if not row["active"] or now - seen > self.idle or now - created > self.max_age:
            self.close_session(token)
            return None
        if touch:
            with write_transaction(self.conn, "touching a session"):
                self.conn.execute("UPDATE web_sessions SET last_seen = ? WHERE token_hash = ?", (now.isoformat(), key))
        return Session(row["username"], _roles(row["roles"]), row["csrf_token"], created, now if touch else seen)

    def close_session(self, token: str) -> None:
        with write_transaction(self.conn, "closing a session"):
            self.conn.execute("DELETE FROM web_sessions WHERE token_hash = ?", (_token_hash(token),))

    def new_csrf_token(self) -> str:
        """A token for forms shown before login (paired with a cookie)."""
        return self._token(24)
