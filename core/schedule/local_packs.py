"""Event packs made on the unit (no network: the maintenance page or ``presensi event create``)
and the sample apel pack used by the demo, the benchmark and the tests.

A local pack takes its participants from the unit's roster (table ``employees``) by office code,
is marked ``origin = "local"`` and is signed with the device key, so it is still tamper-evident
on the unit and the server can tell it apart from its own packs.
"""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from core.identity import DeviceIdentity
from core.schedule.events import EventPack, EventPackError, EventUnit, Location, Participant, format_utc, parse_pack, sign_pack
from core.store.roster import active_employees


def create_local_pack(
    conn: sqlite3.Connection,
    identity: DeviceIdentity,
    *,
    event_id: str,
    kind: str,
    title: str,
    location: str,
    starts_at: datetime,
    ends_at: datetime,
    zone: str,
    offices: Sequence[str] = (),
    on_time_until: datetime | None = None,
    lat: str | None = None,
    lon: str | None = None,
    issued_at: datetime,
) -> dict[str, Any]:
    """A signed envelope for a local pack serving the active employees of ``offices`` (all
    active employees when none are named). Reads the roster only."""
    people = active_employees(conn, offices)
    if not people:
        which = ", ".join(offices) if offices else "any office"
        raise EventPackError(f"no active employee of {which} is on this unit's roster; sync the roster or check the office codes")
    pack = parse_pack(
        {
            "id": event_id,
            "kind": kind,
            "title": title,
            "location": {"name": location, "lat": lat, "lon": lon},
            "zone": zone,
            "starts_at": format_utc(starts_at),
            "ends_at": format_utc(ends_at),
            "on_time_until": format_utc(on_time_until) if on_time_until else None,
            "units": [],
            "participants": [{"id": e.id, "name": e.name, "office": e.unit_code, "unit": ""} for e in people],
            "origin": "local",
            "issuer": f"device:{identity.device_id}",
            "issued_at": format_utc(issued_at),
        },
        "local pack",
    )
    return sign_pack(pack, identity, signer=f"device:{identity.device_id}")


@dataclass(frozen=True)
class PresetUnit:
    """One event unit of a regulation's layout, with the article it comes from."""

    code: str
    label: str
    serves: str
    eselon: tuple[str, ...]
    offices: tuple[tuple[str, str], ...]  # (code, name as the regulation writes it)
    article: str


def balangan_units() -> list[PresetUnit]:
    """Balangan's nine E-Presensi machines and whom each serves (balangan-perbup-32-2020.txt
    Pasal 6 ayat 4; ``presets/balangan_event_units.toml`` says what it had to assume)."""
    text = (resources.files("core.schedule") / "presets" / "balangan_event_units.toml").read_text(encoding="utf-8")
    return [
        PresetUnit(
            u["code"],
            u["label"],
            u["serves"],
            tuple(u.get("eselon", [])),
            tuple((code, name) for code, name in u.get("offices", [])),
            u["article"],
        )
        for u in tomllib.loads(text)["unit"]
    ]


#: Office codes of each Balangan unit that serves offices (units IV–IX).
SAMPLE_OFFICES: dict[str, list[str]] = {u.code: [c for c, _ in u.offices] for u in balangan_units() if u.offices}


@dataclass(frozen=True)
class SamplePerson:
    id: str
    name: str
    office: str
    unit: str
    card_uid: str


def sample_people(count: int) -> list[SamplePerson]:
    """``count`` made-up participants spread over the nine units (ids are 18-digit NIP-like)."""
    people = []
    units = ["I", "II-III", *SAMPLE_OFFICES]
    for n in range(count):
        unit = units[n % len(units)]
        if unit == "I":
            office = "ESELON-II"
        elif unit == "II-III":
            office = "ESELON-III"
        else:
            offices = SAMPLE_OFFICES[unit]
            office = offices[(n // len(units)) % len(offices)]
        nip = f"19{70 + n % 30:02d}{1 + n % 12:02d}{1 + n % 28:02d}2010{1 + n % 12:02d}{n:04d}"  # NIP-shaped, 18 digits
        people.append(SamplePerson(nip, f"Peserta {n + 1:03d}", office, unit, f"{0xC0DE0000 + n:08X}"))
    return people


def sample_pack(
    people: Sequence[SamplePerson],
    *,
    start: datetime,
    event_id: str = "APEL-SAMPLE",
    kind: str = "apel",
    zone: str = "Asia/Makassar",
    minutes: int = 90,
    devices: dict[str, str] | None = None,
) -> EventPack:
    """An apel pack in Balangan's layout (:func:`balangan_units`) serving ``people``."""
    devices = devices or {}
    units = [
        EventUnit(
            code=u.code,
            label=u.label,
            serves=u.serves + (": " + ", ".join(name for _, name in u.offices) if u.offices else ""),
            eselon=list(u.eselon),
            offices=[c for c, _ in u.offices],
            devices=_devs(devices, u.code),
        )
        for u in balangan_units()
    ]
    return EventPack(
        id=event_id,
        kind=kind,
        title="Apel Pagi Senin" if kind == "apel" else f"{kind.capitalize()} bersama",
        location=Location(name="Lapangan Tugu Paringin (contoh)", lat="-2.3230", lon="115.4630"),
        zone=zone,
        starts_at=format_utc(start),
        ends_at=format_utc(start + timedelta(minutes=minutes)),
        on_time_until=format_utc(start + timedelta(minutes=30)),
        units=units,
        participants=[Participant(id=p.id, name=p.name, office=p.office, unit=p.unit) for p in people],
        origin="server",
        issuer="server:sample",
        issued_at=format_utc(start - timedelta(days=2)),
    )


def _devs(devices: dict[str, str], unit: str) -> list[str]:
    return sorted(d for d, u in devices.items() if u == unit)
