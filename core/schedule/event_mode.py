"""Event mode: the unit at an apel or senam, offline, serving the roster its pack names.

:class:`EventBook` keeps loaded packs in the database (table ``events`` plus
``event_participants``) and says which one is active. :class:`EventMode` is what the face and
card pipelines and the screen call while an event runs:

* :meth:`EventMode.banner` — what the screen shows at the top (title, place, window, unit,
  who it serves, how many have come);
* :meth:`EventMode.admit` — whether an identified employee may punch here, and the screen line;
* :meth:`EventMode.punch` — admit and record in the punch store, tagged with the event;
* :meth:`EventMode.attendance` — the list of who came and who did not (see ``report``).

Everything reads the local database only; nothing needs the network.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.clock import Clock, ClockState, local_time, zone_abbreviation
from core.errors import PresensiError
from core.schedule.classify import HADIR, TERLAMBAT, duration_text, screen_text
from core.schedule.events import EventPack, EventPackError, format_utc, parse_pack, parse_utc
from core.schedule.report import build_report
from core.store import events
from core.store.punches import Punch, PunchRequest, PunchStore, format_instant, parse_instant
from core.store.tx import write_transaction
from core.timekeeping import note_lower_bound

log = logging.getLogger(__name__)

#: Admission codes (``Admission.code``).
DITERIMA = "diterima"
BUKAN_PESERTA = "bukan_peserta"
UNIT_LAIN = "unit_lain"
SUDAH_HADIR = "sudah_hadir"
BELUM_MULAI = "belum_mulai"
SUDAH_SELESAI = "sudah_selesai"


@dataclass(frozen=True)
class Admission:
    """The answer to "may this employee punch at this unit now?" and what the screen says."""

    accepted: bool
    code: str
    employee_id: str
    event_id: str
    text: str  # Bahasa Indonesia, for the screen
    text_en: str
    name: str = ""
    unit: str = ""  # the unit that serves them, where known
    kind: str = "lainnya"
    status: str = ""
    minutes: int = 0
    first_at: str = ""  # for a duplicate: local HH:MM of the punch that counts

    def request(self, method: str, **evidence: Any) -> PunchRequest:
        """The punch to record for an accepted admission (``evidence``: liveness, distance)."""
        if not self.accepted:
            raise PresensiError(f"{self.employee_id} was not admitted ({self.code}); nothing to record")
        return PunchRequest(
            self.employee_id, method, kind=self.kind, status=self.status, minutes=self.minutes, event_id=self.event_id, **evidence
        )


@dataclass(frozen=True)
class Banner:
    """What the screen shows while the event runs."""

    event_id: str
    kind_label: str  # Apel, Senam, …
    title: str
    location: str
    coordinates: str  # "-2.3241, 115.6123" or ""
    window: str  # "07:00–08:30 WITA"
    unit: str  # "Unit IV" or ""
    serves: str
    local_pack: bool  # made on the unit, not signed by the server
    expected: int
    present: int

    @property
    def headline(self) -> str:
        origin = " (paket lokal)" if self.local_pack else ""
        return f"{self.kind_label}: {self.title}{origin}"

    @property
    def progress(self) -> str:
        return f"Hadir {self.present} dari {self.expected}"

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data.update(headline=self.headline, progress=self.progress)
        return data


class EventBook:
    """Event packs loaded on this unit."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock

    def __repr__(self) -> str:
        return "EventBook()"

    def save(self, pack: EventPack, envelope: Mapping[str, Any], *, activate: bool = False) -> None:
        """Store (or replace, when newer or equal in version) a verified pack and its roster.
        Its issue time becomes a lower bound of the clock: a clock earlier than it is wrong."""
        with write_transaction(self.conn, f"loading event {pack.id}"):
            stored = events.held_pack(self.conn, pack.id)
            if stored is not None:
                held = json.loads(stored).get("pack", {})
                if int(held.get("version", 1)) > pack.version:
                    raise EventPackError(
                        f"event {pack.id}: version {pack.version} is older than the loaded version {held.get('version')}; keep the newer pack"
                    )
            events.put_event(
                self.conn,
                event_id=pack.id,
                kind=pack.kind,
                title=pack.title,
                location=pack.location.name,
                starts_at=pack.starts_at,
                ends_at=pack.ends_at,
                origin=pack.origin,
                pack_json=json.dumps(dict(envelope), sort_keys=True, ensure_ascii=False),
                loaded_at=format_instant(self.clock.now()),
            )
            events.replace_participants(self.conn, pack.id, [(p.id, p.name, p.office, p.unit) for p in pack.participants])
            if activate:
                events.set_active(self.conn, pack.id)
        log.info("event %s loaded (%s, %d participants, origin %s)", pack.id, pack.kind, len(pack.participants), pack.origin)
        if pack.origin == "server":  # a local pack's issue time is only this unit's own clock
            note_lower_bound(self.conn, self.clock, parse_utc(pack.issued_at), f"paket acara {pack.id}")

    def activate(self, event_id: str | None) -> None:
        """Make ``event_id`` the running event (None: leave event mode)."""
        if event_id is not None and self.get(event_id) is None:
            raise EventPackError(f"no event {event_id!r} is loaded; load its pack first (presensi event load)")
        with write_transaction(self.conn, "switching event mode"):
            events.set_active(self.conn, event_id)

    def get(self, event_id: str) -> tuple[EventPack, dict[str, Any]] | None:
        """(pack, envelope) of a loaded event. Read-only."""
        stored = events.held_pack(self.conn, event_id)
        if stored is None:
            return None
        envelope = json.loads(stored)
        return parse_pack(envelope["pack"], f"event {event_id}"), envelope

    def active(self) -> EventPack | None:
        """The running event, if any. Read-only."""
        event_id = events.active_id(self.conn)
        found = self.get(event_id) if event_id else None
        return found[0] if found else None

    def list(self) -> list[dict[str, Any]]:
        """Loaded events, newest first. Read-only."""
        return events.list_events(self.conn)


class EventMode:
    """A running event at one unit. ``unit`` is this unit's code in the pack (None: the unit
    serves every participant); ``early`` and ``grace`` widen the window at both ends."""

    def __init__(
        self,
        pack: EventPack,
        store: PunchStore,
        clock: Clock,
        *,
        unit: str | None = None,
        early: timedelta = timedelta(minutes=30),
        grace: timedelta = timedelta(0),
    ) -> None:
        if unit is not None and pack.unit(unit) is None:
            known = ", ".join(u.code for u in pack.units) or "none"
            raise EventPackError(f"event {pack.id} has no unit {unit!r} (units: {known}); give one of them")
        self.pack = pack
        self.store = store
        self.conn = store.conn
        self.clock = clock
        self.unit = unit
        self.early = early
        self.grace = grace

    def __repr__(self) -> str:
        return f"EventMode({self.pack.id}, unit={self.unit or '-'})"

    @classmethod
    def for_device(cls, pack: EventPack, store: PunchStore, clock: Clock, *, unit: str = "", **kwargs: Any) -> EventMode:
        """Event mode with the unit taken from ``unit`` (config), else the pack's device list."""
        chosen = unit or pack.unit_for_device(store.identity.device_id)
        if not chosen and len(pack.units) > 1:
            raise EventPackError(
                f"event {pack.id} has {len(pack.units)} units and this device ({store.identity.device_id}) is not assigned one; "
                "set event.unit in the configuration or pass --unit"
            )
        return cls(pack, store, clock, unit=chosen or None, **kwargs)

    # -- the screen ---------------------------------------------------------------------------

    def banner(self) -> Banner:
        pack = self.pack
        start, end = local_time(pack.start, pack.zone), local_time(pack.end, pack.zone)
        unit = pack.unit(self.unit) if self.unit else None
        coords = f"{pack.location.lat}, {pack.location.lon}" if pack.location.lat and pack.location.lon else ""
        return Banner(
            event_id=pack.id,
            kind_label=pack.kind_label,
            title=pack.title,
            location=pack.location.name,
            coordinates=coords,
            window=f"{start:%H:%M}–{end:%H:%M} {zone_abbreviation(pack.zone)}",
            unit=unit.display if unit else "",
            serves=unit.serves if unit else "",
            local_pack=pack.origin == "local",
            expected=len(pack.participants_of(self.unit)),
            present=self.present_count(),
        )

    # -- admission ----------------------------------------------------------------------------

    def admit(self, employee_id: str, at: datetime | None = None) -> Admission:
        """Whether ``employee_id`` (already identified by face, card or finger) may punch here
        now. Read-only: nothing is recorded."""
        pack = self.pack
        now = at or self.clock.now()
        participant = pack.participant(employee_id)

        def refuse(code: str, text: str, text_en: str, first_at: str = "") -> Admission:
            name, unit = (participant.name, participant.unit) if participant else ("", "")
            return Admission(False, code, employee_id, pack.id, text, text_en, name=name, unit=unit, first_at=first_at)

        if participant is None:
            return refuse(BUKAN_PESERTA, "Bukan peserta unit ini", "Not a participant at this unit")
        if self.unit is not None and participant.unit != self.unit:
            served = pack.unit(participant.unit)
            where = served.display if served else ""
            return refuse(
                UNIT_LAIN,
                f"Bukan peserta unit ini – silakan ke {where}" if where else "Bukan peserta unit ini",
                f"Not a participant at this unit – please go to {where}" if where else "Not a participant at this unit",
            )
        # The window is judged only by a clock the unit trusts: a clock that is not synchronised
        # (behind after a power cut, or far off the server's) never refuses a participant; the
        # punch is recorded flagged and its instant corrected later (docs/time.md).
        trusted = ClockState(self.store.clock_state.state()) is ClockState.SYNCED
        if trusted and now < pack.start - self.early:
            opens = local_time(pack.start - self.early, pack.zone)
            starts = local_time(pack.start, pack.zone)
            return refuse(
                BELUM_MULAI,
                f"{pack.kind_label} mulai {starts:%H:%M} – presensi dibuka {opens:%H:%M}",
                f"{pack.kind_label} starts at {starts:%H:%M} – attendance opens {opens:%H:%M}",
            )
        if trusted and now > pack.end + self.grace:
            return refuse(
                SUDAH_SELESAI,
                f"{pack.kind_label} sudah selesai",
                f"{pack.kind_label} has ended",
            )
        first = self.first_punch(employee_id)
        if first is not None:
            at_local = local_time(parse_instant(first), pack.zone)
            return refuse(
                SUDAH_HADIR,
                f"Sudah tercatat hadir pukul {at_local:%H:%M}",
                f"Already recorded at {at_local:%H:%M}",
                first_at=f"{at_local:%H:%M}",
            )
        status, minutes = HADIR, 0
        limit = pack.on_time_limit
        if trusted and limit is not None and now > limit:
            late_s = (now.replace(second=0, microsecond=0) - limit.replace(second=0, microsecond=0)).total_seconds()
            if late_s >= 60:
                status, minutes = TERLAMBAT, int(late_s // 60)
        text = screen_text(pack.punch_kind, status, minutes, event=pack.kind_label)
        text_en = (
            f"Late {duration_text(minutes, 'en')} – {pack.kind_label}" if status == TERLAMBAT else f"Present – {pack.kind_label}"
        )
        return Admission(
            True,
            DITERIMA,
            employee_id,
            pack.id,
            text,
            text_en,
            name=participant.name,
            unit=participant.unit,
            kind=pack.punch_kind,
            status=status,
            minutes=minutes,
        )

    def punch(self, employee_id: str, method: str, **evidence: Any) -> tuple[Admission, Punch | None]:
        """Admit and, when accepted, record the punch (durable on return)."""
        admission = self.admit(employee_id)
        if not admission.accepted:
            log.info("event %s: %s refused (%s)", self.pack.id, employee_id, admission.code)
            return admission, None
        return admission, self.store.record(admission.request(method, **evidence))

    # -- attendance ---------------------------------------------------------------------------

    def first_punch(self, employee_id: str) -> str | None:
        """The instant of the employee's first punch at this event on this unit. Read-only."""
        return events.first_punch_at(self.conn, self.pack.id, employee_id)

    def present_count(self) -> int:
        """How many of this unit's participants have punched. Read-only."""
        ids = {p.id for p in self.pack.participants_of(self.unit)}
        return len(ids & events.employees_punched(self.conn, self.pack.id))

    def punches(self) -> list[dict[str, Any]]:
        """This event's punches on this unit, oldest first, each at its corrected instant when the
        unit learnt the true time later (``recorded_instant`` keeps what the clock said, docs/time.md).
        Read-only."""
        return events.event_punches(self.conn, self.pack.id)

    def attendance(self, *, all_units: bool = False) -> Any:
        """The attendance report of this unit's roster (every unit's with ``all_units``)."""

        return build_report(
            self.pack, self.punches(), unit=None if all_units else self.unit, generated_at=format_utc(self.clock.now())
        )
