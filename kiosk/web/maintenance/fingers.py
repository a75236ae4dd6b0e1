"""Finger enrolment from the maintenance page, through the fingerprint bridge's request table.

The bridge (``presensi bridge``, its own process with its own connection) owns the module; the
page never touches the serial line. :class:`BridgeFingerEnrolment` writes a request into
``finger_enrolments`` (:func:`firmware_bridge.enrolment.request_enrolment`), follows the row the
bridge moves through ``pending → capturing → done | failed | cancelled`` and answers with an
:class:`~kiosk.web.ports.EnrolResult`. While it waits, the page reads the same row
(:func:`latest_for`) to show the bridge's prompts live ("Letakkan jari (1/2)", "Angkat jari",
"Letakkan jari yang sama lagi (2/2)").

A request the bridge does not pick up in ``pickup_timeout_s`` (bridge stopped, module unplugged
and backing off) or that does not finish in time is cancelled, so it never fires later when
nobody is standing at the module.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from core.clock import Clock
from core.errors import EnrolmentError, StorageError
from core.i18n import CODES
from core.runtime import Runtime
from core.store.finger_enrolments import latest_enrolment_id
from firmware_bridge import enrolment as bridge_api
from kiosk.web.ports import EnrolResult, FingerEnrolment

log = logging.getLogger(__name__)

#: The ten fingers by their module number, in Bahasa Indonesia (the catalogue's "finger" group).
FINGER_NAMES = tuple(CODES["finger"][str(n)][0] for n in range(10))
_PLACE = re.compile(r"^Letakkan jari \((\d+)/(\d+)\)$")


@dataclass(frozen=True)
class FingerProgress:
    """One enrolment as the page shows it (no template bytes, only facts and the prompt)."""

    id: int
    employee_id: str
    finger: int
    state: str  # pending | capturing | done | failed | cancelled
    step: int  # captures taken so far
    message: str  # as the bridge wrote it
    prompt: str  # what the person at the module should do now (Bahasa Indonesia)
    finished: bool
    requested_by: str
    updated_at: str


def prompt_of(status: bridge_api.Enrolment) -> str:
    """The bridge's message, with the second and later placings saying "the same finger again"."""
    m = _PLACE.match(status.message)
    if m and int(m.group(1)) > 1:
        return f"Letakkan jari yang sama lagi ({m.group(1)}/{m.group(2)})"
    return status.message


def progress_of(status: bridge_api.Enrolment) -> FingerProgress:
    return FingerProgress(
        id=status.id,
        employee_id=status.employee_id,
        finger=status.finger,
        state=status.state,
        step=status.step,
        message=status.message,
        prompt=prompt_of(status),
        finished=status.finished,
        requested_by=status.requested_by,
        updated_at=status.updated_at,
    )


def latest_for(conn: sqlite3.Connection, employee_id: str) -> FingerProgress | None:
    """The newest enrolment request for ``employee_id``. Read-only."""
    enrolment_id = latest_enrolment_id(conn, employee_id)
    if enrolment_id is None:
        return None
    status = bridge_api.enrolment_status(conn, enrolment_id)
    return progress_of(status) if status is not None else None


def cancel_unfinished(conn: sqlite3.Connection, employee_id: str, *, clock: Clock) -> int | None:
    """Cancel the employee's unfinished enrolment (the page's "Batal"); its id, or None."""
    enrolment_id = latest_enrolment_id(conn, employee_id, (bridge_api.PENDING, bridge_api.CAPTURING))
    if enrolment_id is None:
        return None
    return enrolment_id if bridge_api.cancel_enrolment(conn, enrolment_id, now=clock.now()) else None


class BridgeFingerEnrolment:
    """:class:`~kiosk.web.ports.FingerEnrolment` over the shared database.

    ``connect`` makes a connection per enrolment (the caller's thread owns it); ``wait`` and
    ``monotonic`` are injectable (tests and the demo pass their own); polling is the only way to
    learn of another process's commit without a broker."""

    def __init__(
        self,
        connect: Callable[[], sqlite3.Connection],
        clock: Clock,
        *,
        requested_by: str = "halaman pemeliharaan",
        poll_s: float = 0.1,
        pickup_timeout_s: float = 15.0,
        monotonic: Callable[[], float] = time.monotonic,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        self._connect = connect
        self.clock = clock
        self.requested_by = requested_by
        self.poll_s = poll_s
        self.pickup_timeout_s = pickup_timeout_s
        self._monotonic = monotonic
        self._wait = wait or threading.Event().wait

    def __repr__(self) -> str:
        return f"BridgeFingerEnrolment(pickup_timeout_s={self.pickup_timeout_s})"

    def enrol_finger(self, employee_id: str, finger: int, timeout_s: float) -> EnrolResult:
        conn = self._connect()
        try:
            return self._enrol(conn, employee_id, finger, timeout_s)
        except StorageError as exc:
            log.warning("finger enrolment for %s: %s", employee_id, exc)
            return EnrolResult(False, f"Basis data sibuk atau rusak — ulangi. ({exc})")
        finally:
            conn.close()

    def _enrol(self, conn: sqlite3.Connection, employee_id: str, finger: int, timeout_s: float) -> EnrolResult:
        try:
            request = bridge_api.request_enrolment(
                conn, employee_id, finger, requested_by=self.requested_by, now=self.clock.now()
            )
        except EnrolmentError as exc:
            return EnrolResult(False, exc.screen_text, {"state": "refused"})
        log.info("finger enrolment %d requested (finger %d of %s)", request, finger, employee_id)
        started = self._monotonic()
        status = bridge_api.enrolment_status(conn, request)
        while status is not None and not status.finished:
            waited = self._monotonic() - started
            if status.state == bridge_api.PENDING and waited >= min(self.pickup_timeout_s, timeout_s):
                return self._give_up(
                    conn,
                    request,
                    "Layanan sidik jari tidak menjawab — periksa presensi-bridge dan modul di Dasbor, lalu ulangi.",
                    "bridge_silent",
                )
            if waited >= timeout_s:
                return self._give_up(conn, request, "Waktu habis — ulangi pendaftaran.", "timeout")
            self._wait(self.poll_s)
            status = bridge_api.enrolment_status(conn, request)
        if status is None:
            return EnrolResult(False, "Permintaan pendaftaran hilang — ulangi.", {"enrolment": request, "state": "lost"})
        detail: dict[str, float | int | str] = {"enrolment": status.id, "state": status.state, "step": status.step}
        if status.state == bridge_api.DONE:
            if status.template_id is not None:
                detail["template_id"] = status.template_id
            log.info("finger enrolment %d done", request)
            return EnrolResult(True, f"Sidik jari ({FINGER_NAMES[finger]}) terdaftar.", detail)
        log.info("finger enrolment %d ended %s", request, status.state)
        return EnrolResult(False, status.message, detail)

    def _give_up(self, conn: sqlite3.Connection, request: int, message: str, reason: str) -> EnrolResult:
        cancelled = bridge_api.cancel_enrolment(conn, request, now=self.clock.now())
        status = bridge_api.enrolment_status(conn, request)
        if not cancelled and status is not None and status.state == bridge_api.DONE:  # finished at the last moment
            return EnrolResult(True, "Sidik jari terdaftar.", {"enrolment": request, "state": status.state})
        log.warning("finger enrolment %d given up: %s", request, reason)
        return EnrolResult(False, message, {"enrolment": request, "state": reason})


def finger_enrolment(runtime: Runtime, *, pickup_timeout_s: float = 15.0) -> FingerEnrolment | None:
    """The maintenance page's finger enrolment for ``runtime``'s unit: through the bridge when a
    module is configured (``fingerprint.module`` zhiantec, gt521 or sim), None for ``none``."""
    if runtime.config.fingerprint.module == "none":
        return None
    return BridgeFingerEnrolment(runtime.connect, runtime.clock, pickup_timeout_s=pickup_timeout_s)
