"""``presensi bench event``: people per minute one unit processes in event mode.

Machine time per person, card path: a tap on the simulated reader → the reader event → the card
directory lookup → :meth:`EventMode.punch` (admission: roster, unit, duplicate) → a durable,
signed punch. Face path (when the face libraries and the bundled photos are present): detection,
encoding and gallery match on a camera-sized frame, times the frames the pipeline needs to agree
(``face.agree_frames``), then the same admission and punch; liveness is not included (reported
separately by ``presensi bench liveness`` where available).

The simulation pieces (:class:`SimEventUnit`, :func:`build_units`) are also what the end-to-end
event test drives, so the benchmark measures the path the test checks.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.clock import Clock, FakeClock, FixedClockState
from core.config import FaceConfig
from core.identity import DeviceIdentity
from core.schedule.event_mode import Admission, EventBook, EventMode
from core.schedule.events import sign_pack, verify_pack
from core.schedule.local_packs import SamplePerson, sample_pack, sample_people
from core.store.cards import find_card
from core.store.db import open_database
from core.store.punches import Punch, PunchStore
from core.store.roster import insert_roster
from kiosk.cards.base import CardEventKind
from kiosk.cards.sim import SimCardReader

NAME = "event"
HELP = "people per minute in event mode (machine time per person: card path, face path when available)"

UNKNOWN_CARD = "Kartu tidak dikenal"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=500, help="participants punching by card")
    parser.add_argument("--face-people", type=int, default=6, help="face punches measured (bundled photos), 0 to skip")
    parser.add_argument(
        "--faces",
        type=Path,
        default=Path(__file__).resolve().parents[2].parent / "shared" / "testdata" / "faces",
        help="face test data folder with train/ and test/",
    )
    parser.add_argument("--dir", type=Path, default=None, help="directory for the benchmark database")


def server_public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


@dataclass
class SimEventUnit:
    """One portable unit at the event: its own database, device key, reader and event mode."""

    code: str
    identity: DeviceIdentity
    store: PunchStore
    mode: EventMode
    reader: SimCardReader
    refused_unknown: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)  # (employee or uid, screen text)

    def tap(self, uid: str) -> tuple[Admission | None, Punch | None]:
        """A card tapped on this unit's reader, through the reader, the directory and event mode."""
        self.reader.tap(uid)
        event = self.reader.read(timeout_s=1.0)
        while event is not None and event.kind is not CardEventKind.PRESENT:
            event = self.reader.read(timeout_s=1.0)
        if event is None or event.uid is None:
            raise RuntimeError("the simulated reader lost a tap")
        drained = self.reader.read(timeout_s=0)  # the card taken away again
        assert drained is None or drained.kind is CardEventKind.REMOVED
        matches = find_card(self.store.conn, event.uid)
        if len({m.employee.id for m in matches}) != 1:
            self.refused_unknown += 1
            self.log.append((uid, UNKNOWN_CARD))
            return None, None
        admission, punch = self.mode.punch(matches[0].employee.id, "card")
        self.log.append((admission.employee_id, admission.text))
        return admission, punch

    def close(self) -> None:
        self.reader.close()
        self.store.conn.close()


def load_roster(store: PunchStore, people: Sequence[SamplePerson], now: str) -> None:
    """The regency roster on the unit: employees and their cards."""
    insert_roster(
        store.conn,
        [(p.id, p.name, p.office) for p in people],
        [(p.card_uid, p.id) for p in people],
        source="roster",
        stamp=now,
    )


def build_units(
    root: Path,
    participants: Sequence[SamplePerson],
    roster: Sequence[SamplePerson],
    *,
    units: dict[str, str],
    start: datetime,
    clock: Clock,
    server_key: Ed25519PrivateKey,
) -> tuple[list[SimEventUnit], dict[str, Any]]:
    """Units named ``units`` (name → unit code in the pack), each with its own database, all
    loading one server-signed pack that assigns their device ids. Returns (units, envelope)."""
    identities = {name: DeviceIdentity.generate() for name in units}
    pack = sample_pack(participants, start=start, devices={identities[n].device_id: code for n, code in units.items()})
    envelope = sign_pack(pack, server_key, signer="server")
    built = []
    now = "2026-01-01T00:00:00Z"
    for name, code in units.items():
        conn = open_database(root / f"{name}.db")
        store = PunchStore(conn, identities[name], clock, FixedClockState(), zone=pack.zone)
        load_roster(store, roster, now)
        verified = verify_pack(envelope, server_public_hex(server_key))
        EventBook(conn, clock).save(verified, envelope, activate=True)
        active = EventBook(conn, clock).active()
        assert active is not None
        mode = EventMode.for_device(active, store, clock)
        assert mode.unit == code
        reader = SimCardReader(f"reader-{name}", clock=clock)
        reader.open()
        built.append(SimEventUnit(code, identities[name], store, mode, reader))
    return built, envelope


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="presensi-bench-event-", dir=args.dir) as tmp:
        root = Path(tmp)
        start = datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
        clock = FakeClock(start - timedelta(minutes=5))
        # one unit serving everyone (the figure is per unit); the last few come by face
        people = [dataclasses.replace(p, unit="IV") for p in sample_people(args.people + max(0, args.face_people))]
        face_people, people = people[args.people :], people[: args.people]
        units, _ = build_units(
            root,
            people + face_people,
            people + face_people,
            units={"bench": "IV"},
            start=start,
            clock=clock,
            server_key=Ed25519PrivateKey.generate(),
        )
        unit = units[0]
        card_s: list[float] = []
        for person in people:
            clock.advance(1.0)
            started = time.perf_counter()
            admission, punch = unit.tap(person.card_uid)
            card_s.append(time.perf_counter() - started)
            if punch is None or admission is None or not admission.accepted:
                raise RuntimeError(f"bench participant refused: {admission}")
        dup_s = []
        for person in people[:50]:
            started = time.perf_counter()
            admission, punch = unit.tap(person.card_uid)
            dup_s.append(time.perf_counter() - started)
            assert punch is None
        result: dict[str, Any] = {
            "people": len(people),
            "card_ms_per_person_mean": round(statistics.fmean(card_s) * 1000, 2),
            "card_ms_per_person_median": round(statistics.median(card_s) * 1000, 2),
            "card_ms_per_person_p95": round(sorted(card_s)[int(len(card_s) * 0.95) - 1] * 1000, 2),
            "card_people_per_min_machine": round(60 / statistics.fmean(card_s), 0),
            "duplicate_ms_mean": round(statistics.fmean(dup_s) * 1000, 2),
        }
        result.update(_face(args, unit, clock, [p.id for p in face_people]))
        unit.close()
    return result


def _face(args: argparse.Namespace, unit: SimEventUnit, clock: FakeClock, employee_ids: list[str]) -> dict[str, Any]:
    if args.face_people <= 0:
        return {"face": "skipped (--face-people 0)"}
    try:
        # late: the face libraries are optional on a card-only unit
        from kiosk.bench._event_face import FaceEventSim
    except ImportError as exc:  # the face libraries are optional on a card-only unit
        return {"face": f"unavailable: {exc}"}
    if not (args.faces / "train").is_dir():
        return {"face": f"unavailable: no face test data at {args.faces}"}
    sim = FaceEventSim.enrol(args.faces, unit.mode, employee_ids)
    per_frame, per_person = sim.measure(args.faces, clock, count=args.face_people)
    agree = FaceConfig().agree_frames
    person_s = statistics.fmean(per_frame) * agree + statistics.fmean(per_person)
    return {
        "face_frames_measured": len(per_frame),
        "face_ms_per_frame_mean": round(statistics.fmean(per_frame) * 1000, 1),
        "face_agree_frames": agree,
        "face_ms_per_person_mean": round(person_s * 1000, 1),
        "face_people_per_min_machine": round(60 / person_s, 1),
    }
