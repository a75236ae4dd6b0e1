"""Back-office accounts of the reference server: Admin PD (one office) and BKPSDM (every office).

The maintenance page's rules, with its own functions (:mod:`core.store.accounts`): scrypt hashes with
their own salt, no default password (the first account is made on the command line,
``presensi server add-officer``), every login attempt counted before the password is checked and
the client address locked, growing, after repeated failures; a session is a random cookie of
which only the SHA-256 is stored, with its own CSRF token, ending after ``IDLE`` without a
request or ``MAX_AGE`` after login.

The roles follow the regulations: Admin PD enters keterangan and prints their office's recap
(malang-juknis-presensi-elektronik.txt, Tugas dan Tanggung Jawab angka 2 huruf d and g);
BKPSDM verifies (approves) keterangan and reads every office's recap (jember-perbup-55-2021.txt,
Pasal 11 ayat (3)–(4): "Pejabat yang menangani urusan kepegawaian ... verifikasi").
"""

from __future__ import annotations

import hashlib
import logging
import secrets
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
from core.store.punches import format_instant, parse_instant
from sync.server.storage import Storage, Tx

log = logging.getLogger(__name__)

ADMIN_PD, BKPSDM = "admin_pd", "bkpsdm"
ROLES = (ADMIN_PD, BKPSDM)
IDLE = timedelta(minutes=30)
MAX_AGE = timedelta(hours=12)


@dataclass(frozen=True)
class Officer:
    name: str
    role: str
    unit_code: str  # Admin PD: their office; BKPSDM: ''

    def sees(self, unit_code: str) -> bool:
        """Whether this officer may see (and act for) an office's people."""
        return self.role == BKPSDM or unit_code == self.unit_code

    @property
    def scope(self) -> str | None:
        """The one office this officer sees, or None for all."""
        return None if self.role == BKPSDM else self.unit_code


@dataclass(frozen=True)
class OfficerSession:
    officer: Officer
    csrf: str


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def audit(tx: Tx, at: str, actor: str, action: str, *, subject: str, detail: str = "") -> None:
    """One line of the back office's audit log (no passwords, no documents)."""
    tx.execute(
        "INSERT INTO backoffice_audit (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (at, actor, action, subject, detail),
    )


class Officers:
    def __init__(self, storage: Storage, clock: Clock, lockout: LockoutPolicy | None = None) -> None:
        self.storage = storage
        self.clock = clock
        self.lockout = lockout or LockoutPolicy()

    def __repr__(self) -> str:
        return f"Officers({self.storage!r})"

    def _now(self) -> str:
        return format_instant(self.clock.now())

    def create(self, name: str, password: str, role: str, unit_code: str = "", *, by: str = "cli") -> Officer:
        name = check_username(name)
        check_new_password(password, name)
        if role not in ROLES:
            raise AuthError(f"role {role!r}: use admin_pd or bkpsdm", screen_text="Peran tidak dikenal")
        if role == ADMIN_PD and not unit_code:
            raise AuthError("an Admin PD account needs its office (--unit)", screen_text="Admin PD perlu kode kantor")
        unit_code = unit_code if role == ADMIN_PD else ""
        with self.storage.tx() as tx:
            if role == ADMIN_PD and tx.one("SELECT code FROM units WHERE code = ? AND deleted = 0", (unit_code,)) is None:
                raise AuthError(
                    f"unknown office {unit_code!r}: add it first (presensi server add-unit)", screen_text="Kantor tidak dikenal"
                )
            tx.execute(
                "INSERT INTO backoffice_users (name, password_hash, role, unit_code, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role, "
                "unit_code = excluded.unit_code, active = 1",
                (name, hash_password(password), role, unit_code, self._now()),
            )
            tx.execute("DELETE FROM backoffice_sessions WHERE name = ?", (name,))
            audit(tx, self._now(), by, "akun", subject=name, detail=f"{role} {unit_code}".strip())
        return Officer(name, role, unit_code)

    def _reserve(self, tx: Tx, keys: list[tuple[str, float | None]], now: datetime) -> None:
        for key, _cap in keys:
            row = tx.one("SELECT until_at FROM backoffice_failures WHERE key = ?" + tx.for_update, (key,))  # noqa: S608 - fixed text
            if row is not None and parse_instant(row["until_at"]) > now:
                wait = (parse_instant(row["until_at"]) - now).total_seconds()
                raise LoginRefused(
                    f"locked after repeated failures; try again in {wait:.0f} s",
                    screen_text=f"Terlalu banyak percobaan gagal. Coba lagi dalam {wait:.0f} detik.",
                    retry_after_s=wait,
                )
        for key, cap in keys:
            row = tx.one("SELECT count FROM backoffice_failures WHERE key = ?", (key,))
            failures = (int(row["count"]) if row else 0) + 1
            delay = self.lockout.delay_s(failures)
            if cap is not None:
                delay = min(delay, cap)
            tx.execute(
                "INSERT INTO backoffice_failures (key, count, until_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET count = excluded.count, until_at = excluded.until_at",
                (key, failures, format_instant(now + timedelta(seconds=delay))),
            )

    def login(self, name: str, password: str, addr: str) -> tuple[str, OfficerSession]:
        """A new session (cookie value, session) or :class:`LoginRefused`. The attempt counts as a
        failure before the password is checked (no race past the lockout); success clears it."""
        name = name.strip().lower()[:64]
        keys: list[tuple[str, float | None]] = [(f"addr:{addr}", None), (f"user:{name}", self.lockout.base_s)]
        now = self.clock.now()
        with self.storage.tx() as tx:
            self._reserve(tx, keys, now)
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT * FROM backoffice_users WHERE name = ?", (name,))
        stored = row["password_hash"] if row else hash_password("x" * MIN_PASSWORD_CHARS)
        if not (verify_password(password, stored) and row is not None and row["active"]):
            log.warning("failed back-office login")
            raise LoginRefused("wrong user name or password", screen_text="Nama pengguna atau kata sandi salah")
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.storage.tx() as tx:
            for key, _cap in keys:
                tx.execute("DELETE FROM backoffice_failures WHERE key = ?", (key,))
            tx.execute(
                "INSERT INTO backoffice_sessions (token_hash, name, csrf, created_at, seen_at) VALUES (?, ?, ?, ?, ?)",
                (_token_hash(token), name, csrf, format_instant(now), format_instant(now)),
            )
            audit(tx, format_instant(now), name, "masuk", subject=name, detail=addr)
        return token, OfficerSession(Officer(name, row["role"], row["unit_code"]), csrf)

    def session(self, token: str | None) -> OfficerSession | None:
        """The live session of a cookie value (touched), or None."""
        if not token or len(token) > 200:
            return None
        key = _token_hash(token)
        now = self.clock.now()
        with self.storage.tx() as tx:
            row = tx.one(
                "SELECT s.*, u.role, u.unit_code, u.active FROM backoffice_sessions s JOIN backoffice_users u ON u.name = s.name "
                "WHERE s.token_hash = ?",
                (key,),
            )
            if row is None:
                return None
            if (
                not row["active"]
                or now - parse_instant(row["seen_at"]) > IDLE
                or now - parse_instant(row["created_at"]) > MAX_AGE
            ):
                tx.execute("DELETE FROM backoffice_sessions WHERE token_hash = ?", (key,))
                return None
            tx.execute("UPDATE backoffice_sessions SET seen_at = ? WHERE token_hash = ?", (format_instant(now), key))
        return OfficerSession(Officer(row["name"], row["role"], row["unit_code"]), row["csrf"])

    def logout(self, token: str) -> None:
        with self.storage.tx() as tx:
            tx.execute("DELETE FROM backoffice_sessions WHERE token_hash = ?", (_token_hash(token),))

    def audit_log(self, limit: int = 200) -> list[dict[str, object]]:
        """The newest lines of the audit log. Read-only."""
        with self.storage.tx(write=False) as tx:
            return tx.all("SELECT * FROM backoffice_audit ORDER BY id DESC LIMIT ?", (limit,))
