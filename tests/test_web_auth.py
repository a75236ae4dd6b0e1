"""Accounts, lockout, sessions, setup code and the audit log, on a real SQLite file."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.clock import FakeClock
from core.credentials import LockoutPolicy, LoginRefused, hash_password, verify_password
from core.errors import AuthError
from core.store import audit
from core.store.accounts import Accounts, Role
from core.store.db import open_database
from core.store.records import normalise_uid


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = open_database(tmp_path / "presensi.db")
    yield c
    c.close()


@pytest.fixture
def accounts(conn: sqlite3.Connection, clock: FakeClock) -> Accounts:
    return Accounts(conn, clock, idle=timedelta(minutes=30), lockout=LockoutPolicy(3, 30, 600))


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    a, b = hash_password("kata-sandi-panjang"), hash_password("kata-sandi-panjang")
    assert a.startswith("scrypt$") and a != b
    assert verify_password("kata-sandi-panjang", a)
    assert not verify_password("kata-sandi-panjanG", a)
    assert not verify_password("x", "not-a-hash")


def test_setup_code_creates_the_first_account_once(accounts: Accounts, conn: sqlite3.Connection) -> None:
    code = accounts.setup_code()
    assert code and len(code) == 9 and accounts.setup_code() == code  # stable until used
    with pytest.raises(AuthError):
        accounts.create_first("AAAA-AAAA", "teknisi1", "sandi-yang-kuat-1", "10.0.0.5")
    account = accounts.create_first(code.lower(), "Teknisi1", "sandi-yang-kuat-1", "10.0.0.5")
    assert account.username == "teknisi1" and account.roles == frozenset(Role)
    assert accounts.setup_code() is None
    assert conn.execute("SELECT count(*) FROM settings WHERE key LIKE 'web.setup%'").fetchone()[0] == 0
    with pytest.raises(AuthError):
        accounts.create_first(code, "other", "sandi-yang-kuat-2", "10.0.0.5")


def test_weak_passwords_refused(accounts: Accounts) -> None:
    code = accounts.setup_code()
    assert code
    with pytest.raises(AuthError, match="too short"):
        accounts.create_first(code, "admin", "pendek", "10.0.0.5")
    with pytest.raises(AuthError, match="user name"):
        accounts.create_first(code, "admin", "admin-sandi-panjang", "10.0.0.5")


def test_lockout_grows_and_ends_on_the_injected_clock(accounts: Accounts, clock: FakeClock) -> None:
    accounts.create("opr", "sandi-yang-kuat-1", [Role.ADMIN], by="test")
    for _ in range(3):
        with pytest.raises(LoginRefused) as info:
            accounts.authenticate("opr", "salah-salah-salah", "10.0.0.9")
        assert info.value.retry_after_s is None
    with pytest.raises(LoginRefused) as info:  # locked: even the right password is refused
        accounts.authenticate("opr", "sandi-yang-kuat-1", "10.0.0.9")
    assert info.value.retry_after_s == pytest.approx(30)
    clock.advance(31)
    with pytest.raises(LoginRefused):  # a fourth failure doubles the delay
        accounts.authenticate("opr", "salah-lagi-salah", "10.0.0.9")
    with pytest.raises(LoginRefused) as info:
        accounts.authenticate("opr", "sandi-yang-kuat-1", "10.0.0.9")
    assert info.value.retry_after_s == pytest.approx(60)
    clock.advance(61)
    assert accounts.authenticate("opr", "sandi-yang-kuat-1", "10.0.0.9").username == "opr"
    assert accounts.failures("user:opr") == 0


def test_lockout_delay_is_capped() -> None:
    policy = LockoutPolicy(5, 30, 3600)
    assert [policy.delay_s(n) for n in (4, 5, 6, 7)] == [0, 30, 60, 120]
    assert policy.delay_s(40) == 3600


def test_session_expires_when_idle_and_csrf_token_is_per_session(accounts: Accounts, clock: FakeClock) -> None:
    account = accounts.create("tek", "sandi-yang-kuat-1", [Role.TECHNICIAN], by="test")
    token, session = accounts.open_session(account)
    token2, session2 = accounts.open_session(account)
    assert session.csrf_token != session2.csrf_token and token != token2
    clock.advance(29 * 60)
    assert accounts.session(token) is not None  # touched: idle time restarts
    clock.advance(29 * 60)
    assert accounts.session(token) is not None
    assert accounts.session(token2) is None  # 58 minutes idle
    clock.advance(31 * 60)
    assert accounts.session(token) is None
    assert accounts.session("forged") is None


def test_disabling_an_account_ends_its_sessions(accounts: Accounts) -> None:
    account = accounts.create("tek", "sandi-yang-kuat-1", [Role.TECHNICIAN], by="test")
    token, _ = accounts.open_session(account)
    accounts.set_active("tek", False)
    assert accounts.session(token) is None
    with pytest.raises(LoginRefused):
        accounts.authenticate("tek", "sandi-yang-kuat-1", "10.0.0.1")


def test_audit_log_is_append_only_and_refuses_secret_keys(conn: sqlite3.Connection, clock: FakeClock) -> None:
    audit.record(conn, "admin", "card.register", now=clock.now(), employee_id="1985", uid="04A1B2")
    entries = audit.entries(conn)
    assert entries[0].actor == "admin" and entries[0].detail == {"employee_id": "1985", "uid": "04A1B2"}
    for key in ("password", "setup_code", "face_encoding", "template", "api_token"):
        with pytest.raises(ValueError):
            audit.record(conn, "admin", "x", now=clock.now(), **{key: "v"})
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    assert audit.entries(conn, action="card.")[0].action == "card.register"
    assert audit.entries(conn, action="card_") == []  # '_' is literal, not a wildcard


@given(st.integers(min_value=0, max_value=9_999_999_999))
@settings(max_examples=200)
def test_decimal_em4100_uid_maps_to_low_32_bits(value: int) -> None:
    assert normalise_uid(f"{value:010d}") == f"{value & 0xFFFFFFFF:08X}"


@given(st.binary(min_size=2, max_size=10))
@settings(max_examples=200)
def test_hex_uid_normalised_from_any_separator_style(raw: bytes) -> None:
    want = raw.hex().upper()
    if want.isdigit() and len(want) == 10:
        return  # reads as an EM4100 decimal by design
    assert normalise_uid(":".join(f"{b:02x}" for b in raw)) == want
    assert normalise_uid(" ".join(f"{b:02X}" for b in raw)) == want


def _concurrently(path: Path, clock: FakeClock, attempt: Callable[[Accounts], object], n: int) -> list[BaseException | None]:
    """``n`` attempts at once, each on its own connection to the same database (as the web
    server's threads are); what each raised."""
    barrier = threading.Barrier(n)

    def one(_: int) -> BaseException | None:
        conn = open_database(path)
        try:
            accounts = Accounts(conn, clock, lockout=LockoutPolicy(5, 30, 3600))
            barrier.wait()
            attempt(accounts)
            return None
        except BaseException as exc:
            return exc
        finally:
            conn.close()

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))


def test_concurrent_wrong_passwords_cannot_race_past_the_lockout(tmp_path: Path, clock: FakeClock) -> None:
    """Issue 22, finding 8: 30 wrong passwords at once were all checked (lockout after 5)."""
    path = tmp_path / "presensi.db"
    conn = open_database(path)
    Accounts(conn, clock).create("opr", "sandi-yang-kuat-1", [Role.ADMIN], by="test")
    conn.close()
    outcomes = _concurrently(path, clock, lambda a: a.authenticate("opr", "salah-salah-salah", "10.0.0.66"), 30)
    assert all(isinstance(o, LoginRefused) for o in outcomes)
    checked = [o for o in outcomes if isinstance(o, LoginRefused) and o.retry_after_s is None]
    assert len(checked) == 5  # the other 25 were refused as locked before any password was checked


def test_concurrent_setup_codes_cannot_race_past_the_lockout(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "presensi.db"
    conn = open_database(path)
    assert Accounts(conn, clock).setup_code()
    conn.close()
    outcomes = _concurrently(path, clock, lambda a: a.create_first("AAAA-AAAA", "teknisi1", "sandi-yang-kuat-1", "10.0.0.66"), 20)
    checked = [o for o in outcomes if isinstance(o, AuthError) and not isinstance(o, LoginRefused)]
    assert len(checked) == 5 and all(isinstance(o, AuthError) for o in outcomes)


def test_someone_else_cannot_lock_a_known_name_out_for_long(accounts: Accounts, clock: FakeClock) -> None:
    """A known user name locked for an hour by anyone on the LAN: the name's own lock lasts at
    most the first delay; the guessing address stays locked, growing."""
    accounts.create("opr", "sandi-yang-kuat-1", [Role.ADMIN], by="test")
    for _ in range(12):  # a patient guesser waits out each lock
        try:
            accounts.authenticate("opr", "tebak-tebak-tebak", "10.0.0.66")
        except LoginRefused as exc:
            clock.advance((exc.retry_after_s or 0) + 1)
    with pytest.raises(LoginRefused):
        accounts.authenticate("opr", "tebak-lagi-tebak", "10.0.0.66")
    with pytest.raises(LoginRefused) as info:  # the guesser: locked, for longer than the name
        accounts.authenticate("opr", "sandi-yang-kuat-1", "10.0.0.66")
    assert info.value.retry_after_s is not None and info.value.retry_after_s > 30
    clock.advance(31)
    assert accounts.authenticate("opr", "sandi-yang-kuat-1", "10.0.0.9").username == "opr"  # the owner, elsewhere
    with pytest.raises(LoginRefused, match="locked"):
        accounts.authenticate("opr", "sandi-yang-kuat-1", "10.0.0.66")
