"""Which card belongs to whom: the ``cards`` and ``employees`` tables, seen from a card reader.

Lookups follow :func:`core.card_uid.same_card`, so an EM4100 card registered through a
keyboard reader (low 32 bits) matches when an RDM6300 reads its full 40-bit id, and the other way
round. Binding a card writes the audit log in the same transaction.
"""

from __future__ import annotations

import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from core.card_uid import EM_FAMILY_HEX_LENGTHS, masked_uid, same_card
from core.errors import EnrolmentError
from core.store.punches import format_instant
from core.store.tx import write_transaction


class CardPolicy(enum.StrEnum):
    """How an employee's (or the unit's) card punches; stored in ``employees.card_policy``."""

    CARD = "card"  # the card alone punches
    CARD_FACE = "card_face"  # the card names the employee, the face confirms it (1:1, with liveness)
    FACE = "face"  # cards are not accepted for this employee (or unit)


@dataclass(frozen=True)
class Employee:
    id: str
    name: str
    active: bool
    card_policy: CardPolicy | None  # None: the unit's policy
    unit_code: str = ""


@dataclass(frozen=True)
class CardMatch:
    uid: str  # as stored
    employee: Employee


@dataclass(frozen=True)
class CardRecord:
    uid: str
    employee_id: str
    employee_name: str
    source: str
    created_at: str


def _employee(row: sqlite3.Row) -> Employee:
    raw = row["card_policy"]
    try:
        policy = CardPolicy(raw) if raw else None
    except ValueError:
        policy = None  # doctor reports unknown values; the unit's policy applies meanwhile
    return Employee(row["id"], row["name"], bool(row["active"]), policy, row["unit_code"])


def get_employee(conn: sqlite3.Connection, employee_id: str) -> Employee | None:
    """Read-only."""
    row = conn.execute("SELECT * FROM employees WHERE id = ?", (employee_id,)).fetchone()
    return _employee(row) if row else None


def find_card(conn: sqlite3.Connection, uid: str) -> list[CardMatch]:
    """Every registration that names this card, exact match first. Read-only.

    More than one employee in the answer means the card is registered twice under different
    forms (e.g. by its full id and by the decimal printed on it, to two people): refuse it.
    """
    params: list[str | int] = [uid]
    sql = "SELECT c.uid AS card_uid, e.* FROM cards c JOIN employees e ON e.id = c.employee_id WHERE c.uid = ?"
    if len(uid) in EM_FAMILY_HEX_LENGTHS:
        # the same EM4100 card under its other lengths: a stored tail of ours, or ours a tail of a stored id
        tails = [uid[-n:] for n in EM_FAMILY_HEX_LENGTHS if n < len(uid)]
        longer = [n for n in EM_FAMILY_HEX_LENGTHS if n > len(uid)]
        if tails:
            sql += f" OR c.uid IN ({', '.join('?' * len(tails))})"
            params += tails
        if longer:
            sql += f" OR (length(c.uid) IN ({', '.join('?' * len(longer))}) AND substr(c.uid, -?) = ?)"
            params += [*longer, len(uid), uid]
    rows = conn.execute(sql + " ORDER BY c.uid = ? DESC", [*params, uid]).fetchall()
    return [CardMatch(r["card_uid"], _employee(r)) for r in rows if same_card(r["card_uid"], uid)]


def card_policy_of(conn: sqlite3.Connection, employee_id: str) -> str | None:
    """The employee's own card policy as stored (``employees.card_policy``; None when unset or
    no such employee), unchecked. Read-only."""
    row = conn.execute("SELECT card_policy FROM employees WHERE id = ?", (employee_id,)).fetchone()
    return row[0] if row is not None else None


def count_cards(conn: sqlite3.Connection) -> int:
    """How many cards are registered. Read-only."""
    return int(conn.execute("SELECT count(*) FROM cards").fetchone()[0])


def count_unknown_policies(conn: sqlite3.Connection, known: Sequence[str]) -> int:
    """Employees whose card policy is set to none of ``known``. Read-only."""
    return int(
        conn.execute(
            f"SELECT count(*) FROM employees WHERE card_policy IS NOT NULL AND card_policy NOT IN ({', '.join('?' * len(known))})",  # noqa: S608 - placeholders only
            tuple(known),
        ).fetchone()[0]
    )


def count_card_users(conn: sqlite3.Connection) -> int:
    """Active employees whose own policy is card or card_face. Read-only."""
    return int(
        conn.execute("SELECT count(*) FROM employees WHERE active = 1 AND card_policy IN ('card', 'card_face')").fetchone()[0]
    )


def count_card_users_without_card(conn: sqlite3.Connection, unit_policy: str) -> int:
    """Active employees who punch by card (their policy, else ``unit_policy``) and have no
    card. Read-only."""
    return int(
        conn.execute(
            "SELECT count(*) FROM employees e WHERE e.active = 1 AND coalesce(e.card_policy, ?) IN ('card', 'card_face')"
            " AND NOT EXISTS (SELECT 1 FROM cards c WHERE c.employee_id = e.id)",
            (unit_policy,),
        ).fetchone()[0]
    )


def list_cards(conn: sqlite3.Connection, employee_id: str | None = None) -> list[CardRecord]:
    """Registered cards, optionally of one employee. Read-only."""
    sql = "SELECT c.uid, c.employee_id, e.name, c.source, c.created_at FROM cards c JOIN employees e ON e.id = c.employee_id"
    rows = (
        conn.execute(sql + " WHERE c.employee_id = ? ORDER BY c.created_at", (employee_id,))
        if employee_id
        else conn.execute(sql + " ORDER BY e.name, c.created_at")
    )
    return [CardRecord(r["uid"], r["employee_id"], r["name"], r["source"], r["created_at"]) for r in rows]


def card_holder(conn: sqlite3.Connection, uid: str) -> str | None:
    """The employee id this exact uid is registered to (``cards``), or None. Read-only."""
    row = conn.execute("SELECT employee_id FROM cards WHERE uid = ?", (uid,)).fetchone()
    return None if row is None else str(row[0])


def card_holders(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(uid, employee id) of every registered card, oldest registration first (``cards``). Read-only."""
    return [(str(r[0]), str(r[1])) for r in conn.execute("SELECT uid, employee_id FROM cards ORDER BY created_at")]


def add_card_if_free(conn: sqlite3.Connection, uid: str, employee_id: str, *, source: str, now: datetime) -> None:
    """Register ``uid`` to the employee in ``cards`` (in a transaction of its own) unless the uid
    is registered already, to anyone; not audited (the caller's server command is)."""
    with write_transaction(conn, f"saving the card of {employee_id}"):
        conn.execute(
            "INSERT INTO cards (uid, employee_id, source, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(uid) DO NOTHING",
            (uid, employee_id, source, format_instant(now)),
        )


def bind_card(
    conn: sqlite3.Connection, uid: str, employee_id: str, *, actor: str, now: datetime, source: str = "local"
) -> tuple[Employee, bool]:
    """Register ``uid`` to the employee; returns (the employee, whether it was new).

    Raises :class:`CardBindingRefused` when the employee is unknown or inactive, or the card
    already belongs to someone else.
    """
    stamp = now.isoformat(timespec="seconds")
    with write_transaction(conn, "registering a card"):
        employee = get_employee(conn, employee_id)
        if employee is None:
            raise CardBindingRefused("unknown_employee", f"no employee {employee_id!r}; sync the roster or add them first")
        if not employee.active:
            raise CardBindingRefused("inactive", f"employee {employee_id} is inactive; activate them first", employee)
        for match in find_card(conn, uid):
            if match.employee.id != employee_id:
                raise CardBindingRefused(
                    "taken",
                    f"this card is registered to {match.employee.name} ({match.employee.id}); remove it there first",
                    match.employee,
                )
            return employee, False
        conn.execute(
            "INSERT INTO cards (uid, employee_id, source, created_at) VALUES (?, ?, ?, ?)", (uid, employee_id, source, stamp)
        )
        _audit(conn, actor, "card.register", stamp, employee_id=employee_id, card=masked_uid(uid))
    return employee, True


def unbind_card(conn: sqlite3.Connection, uid: str, *, actor: str, now: datetime) -> bool:
    """Remove the registration of exactly this UID; True when there was one."""
    stamp = now.isoformat(timespec="seconds")
    with write_transaction(conn, "removing a card"):
        row = conn.execute("SELECT employee_id FROM cards WHERE uid = ?", (uid,)).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM cards WHERE uid = ?", (uid,))
        _audit(conn, actor, "card.remove", stamp, employee_id=row["employee_id"], card=masked_uid(uid))
    return True


def _audit(conn: sqlite3.Connection, actor: str, action: str, stamp: str, **detail: str) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, detail) VALUES (?, ?, ?, ?)",
        (stamp, actor[:80], action, json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )


class CardBindingRefused(EnrolmentError):
    """Why a card could not be registered. ``reason`` is a code; the message says what to do."""

    def __init__(self, reason: str, message: str, employee: Employee | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.employee = employee
