"""What the schedule and event mode make of a punch, as one hook for every pipeline.

Face, card and finger pipelines call ``admit(employee_id, instant)`` after identification and
before ``PunchStore.record``. The answer is either a classification (normal days: masuk, pulang,
terlambat N menit …) or, while an event pack is active, an event admission that may refuse
("Bukan peserta unit ini — silakan ke Unit V", "Sudah tercatat hadir pukul 07:12"). The schedule
refuses too when a work code refuses a punch past the day's ``punches_per_day``
(``extra_punch = "tolak"``: "Tidak dicatat – masuk sudah tercatat pukul 06:00 WIB"). The pipelines
read it through :func:`refusal` and :func:`request_fields`, so event mode and the schedule are
decided in one place and every pipeline behaves the same.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from core.clock import Clock
from core.config import KioskConfig
from core.schedule.classify import Classification, Schedule
from core.schedule.event_mode import Admission, EventBook, EventMode
from core.store.punches import PunchStore

log = logging.getLogger(__name__)

#: What the schedule (a classification) or the running event (an admission) says of a punch:
#: the one type every pipeline (face, card, finger) receives from its classifier.
Verdict = Classification | Admission

#: (employee id, instant) → the verdict on a punch (see module doc).
Admit = Callable[[str, datetime], Verdict]


def no_schedule(_employee_id: str, _instant: datetime) -> Classification:
    """The classifier until the schedule rules are composed in (tests, tools): kind 'lainnya', no status."""
    return Classification(kind="lainnya", status="")


def refusal(result: Verdict) -> tuple[str, str] | None:
    """(code, screen text) when ``result`` refuses the punch, else None.

    Event admissions refuse (not a participant here, already counted); so does the schedule's
    classification of a punch past the work code's ``punches_per_day`` when its ``extra_punch``
    is ``"tolak"`` (code ``sudah_masuk``/``sudah_pulang``, text "Tidak dicatat – masuk sudah
    tercatat pukul 06:00 WIB"). A classification's ``text`` is a method: it is called."""
    if getattr(result, "accepted", True) is False:
        text = getattr(result, "text", "Presensi ditolak")
        return str(getattr(result, "code", "refused")), str(text() if callable(text) else text)
    return None


def request_fields(result: Verdict) -> dict[str, Any]:
    """kind, status, minutes and event id for the PunchRequest."""
    return {
        "kind": result.kind,
        "status": result.status,
        "minutes": int(result.minutes),
        "event_id": getattr(result, "event_id", None) or None,
    }


def already_punched_text(at_local: datetime, zone_abbr: str, lang: str = "id") -> str:
    """The one text for a punch suppressed as a repeat, by face, card or finger alike; the screen
    shows the name beside it, so the text does not repeat it."""
    return (
        f"Sudah presensi pukul {at_local:%H:%M} {zone_abbr}"
        if lang == "id"
        else f"Already recorded at {at_local:%H:%M} {zone_abbr}"
    )


def status_text(result: Verdict) -> str:
    """The classification's line for the screen ("Terlambat 12 menit"), or ''."""
    text = getattr(result, "text", None)
    if callable(text):
        return str(text())
    return str(text or "")


class UnitAdmission:
    """The unit's admission hook: the active event pack if there is one, else the schedule.

    Reads the database each time (one cheap query), so an event started or stopped on the
    maintenance page or with ``presensi event`` takes effect at the next punch. Each pipeline
    thread builds its own, on its own store's connection.
    """

    def __init__(self, config: KioskConfig, store: PunchStore, clock: Clock) -> None:

        self.config = config
        self.store = store
        self.clock = clock
        self.schedule = Schedule(store.conn, config.unit.zone, default_work_code=config.schedule.default_work_code)
        self.events = EventBook(store.conn, clock)

    def __repr__(self) -> str:
        return f"UnitAdmission({self.schedule!r})"

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def __call__(self, employee_id: str, instant: datetime) -> Verdict:

        pack = self.events.active()
        if pack is None:
            return self.schedule.classify(employee_id, instant)
        event = self.config.event
        mode = EventMode.for_device(
            pack,
            self.store,
            self.clock,
            unit=event.unit,
            early=timedelta(minutes=event.early_minutes),
            grace=timedelta(minutes=event.grace_minutes),
        )
        return mode.admit(employee_id)
