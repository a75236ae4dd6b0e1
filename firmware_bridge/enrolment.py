"""The enrolment API the maintenance page calls (another process): requests through the database.

The page calls :func:`request_enrolment`, then polls :func:`enrolment_status` and shows its
``message`` (Bahasa Indonesia: "Letakkan jari (1/2)", "Angkat jari" …); :func:`cancel_enrolment`
stops it between captures. The bridge picks pending requests up in order
(:func:`next_pending`) and moves them through ``pending → capturing → done | failed |
cancelled``. Nothing here touches the module, so the page never waits on a serial line. The
rows are the store's (:mod:`core.store.finger_enrolments`).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime

from core.errors import EnrolmentError
from core.store import finger_enrolments as rows
from core.store.roster import get_employee
from core.store.tx import write_transaction

PENDING, CAPTURING, DONE, FAILED, CANCELLED = "pending", "capturing", "done", "failed", "cancelled"
FINISHED = (DONE, FAILED, CANCELLED)
UNFINISHED = (PENDING, CAPTURING)


@dataclass(frozen=True)
class Enrolment:
    id: int
    employee_id: str
    finger: int
    state: str
    step: int
    message: str
    template_id: int | None
    requested_by: str
    created_at: str
    updated_at: str

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Enrolment:
        return cls(**{k: row[k] for k in row.keys()})  # noqa: SIM118 - sqlite3.Row is not a mapping


def request_enrolment(conn: sqlite3.Connection, employee_id: str, finger: int, *, requested_by: str, now: datetime) -> int:
    """Queue an enrolment of ``finger`` (0–9) for an active employee; returns its id."""
    if not 0 <= finger <= 9:
        raise EnrolmentError("finger must be 0–9 (0 right thumb … 9 left little finger)")
    with write_transaction(conn, "requesting a fingerprint enrolment"):
        employee = get_employee(conn, employee_id)
        if employee is None or not employee.active:
            raise EnrolmentError(
                f"no active employee {employee_id}; add them to the roster first", screen_text="Pegawai tidak ditemukan"
            )
        busy = rows.enrolment_in(conn, UNFINISHED)
        if busy is not None:
            raise EnrolmentError(
                f"enrolment {busy} is still in progress; finish or cancel it first",
                screen_text="Pendaftaran lain sedang berjalan",
            )
        return rows.add_enrolment(
            conn, employee_id, finger, state=PENDING, message="Menunggu pemindai sidik jari", requested_by=requested_by, now=now
        )


def enrolment_status(conn: sqlite3.Connection, enrolment_id: int) -> Enrolment | None:
    """Read-only."""
    row = rows.enrolment_row(conn, enrolment_id)
    return Enrolment.from_row(row) if row else None


def cancel_enrolment(conn: sqlite3.Connection, enrolment_id: int, *, now: datetime) -> bool:
    """Cancel an unfinished enrolment; False when it had already finished."""
    return rows.cancel_enrolment(conn, enrolment_id, state=CANCELLED, message="Dibatalkan", now=now, unfinished=UNFINISHED)


def next_pending(conn: sqlite3.Connection) -> Enrolment | None:
    """The oldest pending request. Read-only."""
    row = rows.oldest_in_state(conn, PENDING)
    return Enrolment.from_row(row) if row else None


def update_enrolment(
    conn: sqlite3.Connection,
    enrolment_id: int,
    *,
    state: str,
    message: str,
    now: datetime,
    step: int | None = None,
    template_id: int | None = None,
) -> bool:
    """Move an unfinished enrolment on; False when it was cancelled (or finished) meanwhile."""
    return rows.update_enrolment(
        conn, enrolment_id, state=state, message=message, now=now, unfinished=UNFINISHED, step=step, template_id=template_id
    )


def wait_enrolment(conn: sqlite3.Connection, enrolment_id: int, timeout_s: float, poll_s: float = 0.1) -> Enrolment | None:
    """Poll until the enrolment finishes or ``timeout_s`` passes (for the command line)."""
    deadline = time.monotonic() + timeout_s
    status = enrolment_status(conn, enrolment_id)
    while status is not None and not status.finished and time.monotonic() < deadline:
        time.sleep(poll_s)
        status = enrolment_status(conn, enrolment_id)
    return status
