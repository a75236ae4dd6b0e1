"""The demo's people: those in ``train/`` enrolled by face, a few staff who punch by card or
finger, a simulated card and a simulated finger for everyone, and the sample apel pack.

Everything goes through the same code a unit uses (the enroller, the card directory, the
fingerprint template store, the event book); nothing here writes a table by hand.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from core.clock import Clock
from core.config import FaceConfig
from core.errors import EnrolmentError
from core.identity import DeviceIdentity
from core.schedule.event_mode import EventBook
from core.schedule.events import EventPack, format_utc, sign_pack
from core.schedule.local_packs import sample_pack, sample_people
from core.store import roster
from core.store.cards import bind_card
from firmware_bridge.factory import seed_sim_template
from kiosk.camera.file import list_images
from kiosk.face.enroll import Enroller

log = logging.getLogger(__name__)

#: The office and the apel unit of the demo's own people: Diskominfo is served by unit IX
#: (balangan-perbup-32-2020.txt Pasal 6 ayat 4 huruf h angka 6).
OFFICE, EVENT_UNIT = "DISKOMINFO", "IX"
#: A staff member registered at another unit of the apel, to show the refusal "silakan ke Unit V".
OTHER_OFFICE, OTHER_UNIT = "DINKES", "V"
STAFF_NAMES = (
    "Siti Rahmawati",
    "Budi Santoso",
    "Dewi Lestari",
    "Agus Salim",
    "Rina Marlina",
    "Hendra Wijaya",
    "Yuni Astuti",
    "Fajar Nugroho",
)
UNKNOWN_CARD = "DEADBEEF"
CARD_BASE = 0x04D30000


@dataclass(frozen=True)
class DemoPerson:
    employee_id: str
    name: str
    card_uid: str
    by_face: bool  # enrolled from train/ photos
    office: str = OFFICE
    unit: str = EVENT_UNIT  # their unit at the apel


def staff_id(n: int) -> str:
    """An 18-digit NIP-shaped id for demo staff member ``n``."""
    return f"1990{1 + n % 12:02d}{1 + n % 28:02d}2020{1 + n % 12:02d}{1 + n % 2}{n + 1:03d}"


def enrol_faces(conn: sqlite3.Connection, train: Path, config: FaceConfig, clock: Clock) -> tuple[list[DemoPerson], list[str]]:
    """Everyone in ``train/<person>/`` (the folder name is the employee id); returns the people
    and a line per person who could not be enrolled."""
    enroller = Enroller(conn, config, clock)
    people, problems = [], []
    for n, folder in enumerate(sorted(p for p in train.iterdir() if p.is_dir())):
        name = folder.name.replace("_", " ").title()
        try:
            enroller.enrol_photos(folder.name, name, list_images(folder), replace=True)
        except EnrolmentError as exc:
            problems.append(f"{folder.name}: {exc}")
            continue
        people.append(DemoPerson(folder.name, name, f"{CARD_BASE + n:08X}", by_face=True))
    return people, problems


def add_staff(conn: sqlite3.Connection, count: int, clock: Clock, *, first_card: int = 100) -> list[DemoPerson]:
    """``count`` staff who punch by card or finger; the last one belongs to another apel unit."""
    people = []
    for n in range(count):
        name = STAFF_NAMES[n % len(STAFF_NAMES)] + ("" if n < len(STAFF_NAMES) else f" {n // len(STAFF_NAMES) + 1}")
        other = count > 1 and n == count - 1
        person = DemoPerson(
            staff_id(n),
            name,
            f"{CARD_BASE + first_card + n:08X}",
            by_face=False,
            office=OTHER_OFFICE if other else OFFICE,
            unit=OTHER_UNIT if other else EVENT_UNIT,
        )
        roster.upsert_employee(conn, person.employee_id, person.name, now=clock.now(), unit_code=person.office)
        people.append(person)
    return people


def register(conn: sqlite3.Connection, people: list[DemoPerson], clock: Clock) -> None:
    """Each person's office code, simulated card and simulated finger (index finger, slot as the
    bridge assigns it)."""

    for p in people:
        employee = roster.get_employee(conn, p.employee_id)
        if employee is not None and employee.unit_code != p.office:
            roster.upsert_employee(conn, p.employee_id, employee.name, now=clock.now(), unit_code=p.office)
        bind_card(conn, p.card_uid, p.employee_id, actor="demo", now=clock.now())
        seed_sim_template(conn, p.employee_id, now=clock.now())


def load_sample_apel(
    conn: sqlite3.Connection, identity: DeviceIdentity, people: list[DemoPerson], clock: Clock, zone: str, *, extra: int = 40
) -> EventPack:
    """The sample apel pack (Balangan's nine units), started ten minutes ago, with the demo's
    people as participants beside ``extra`` made-up ones, this device serving unit IX; signed
    with the device key as a local pack and made the running event."""
    now = clock.now().replace(microsecond=0)
    ours = [
        replace(s, id=p.employee_id, name=p.name, office=p.office, unit=p.unit)
        for p, s in zip(people, sample_people(len(people)), strict=True)
    ]
    pack = sample_pack(
        [*ours, *sample_people(extra + len(people))[len(people) :]],
        start=now - timedelta(minutes=10),
        event_id=f"APEL-DEMO-{now:%Y%m%d}",
        zone=zone,
        devices={identity.device_id: EVENT_UNIT},
    )
    pack = pack.model_copy(update={"origin": "local", "issuer": f"device:{identity.device_id}", "issued_at": format_utc(now)})
    envelope = sign_pack(pack, identity, signer=f"device:{identity.device_id}")
    EventBook(conn, clock).save(pack, envelope, activate=True)
    log.info("demo event %s running with %d participants", pack.id, len(pack.participants))
    return pack
