"""Event packs: an apel, senam, tausiyah or other event, signed by the server or made on the unit.

A pack says what the event is (kind, title, location and coordinates, zone), when punches are
taken (``starts_at`` … ``ends_at``, on time until ``on_time_until``), and whom it serves: the
``units`` (Balangan's nine: unit I for eselon II, units II–III for eselon III, units IV–IX for
listed offices), which devices are which unit, and the ``participants`` with the unit that serves
each. The server resolves eselon and office rules into the participant list, so a unit in a field
with no network needs nothing else.

The file on disk or on the wire is an *envelope* (docs/event-mode.md)::

    {"format": "presensi-event-pack/1",
     "pack": {...},
     "signature": {"alg": "ed25519", "signer": "server" | "device:PK-…", "public_key": "<hex>",
                   "value": "<hex>"}}

The signature covers :func:`canonical_pack_bytes`: the ASCII bytes ``presensi-event-pack-v1\\n``
followed by the JSON of ``pack`` with keys sorted, no whitespace, non-ASCII escaped as ``\\uXXXX``.
The pack holds no floating-point numbers (coordinates are decimal strings) so every language
produces the same bytes. A pack whose ``origin`` is ``server`` verifies only against the server's
key configured on the unit; one made on the unit (``origin = "local"``) against that device's key.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.clock import ZONES
from core.errors import PresensiError
from core.identity import DeviceIdentity, public_key_from_hex, verify_signature

log = logging.getLogger(__name__)

FORMAT = "presensi-event-pack/1"
SIGNING_PREFIX = b"presensi-event-pack-v1\n"
KINDS = ("apel", "senam", "tausiyah", "lainnya")
KIND_LABELS = {"apel": "Apel", "senam": "Senam", "tausiyah": "Tausiyah", "lainnya": "Kegiatan"}
_KIND_ALIASES = {"other": "lainnya", "lain": "lainnya"}
#: Event kinds whose punch is, by default, the working day's masuk: balangan-perbup-32-2020.txt
#: Pasal 4 ayat 3 holds apel on Monday and senam on Friday at 07:00–08:30 in place of the masuk.
MASUK_KINDS = frozenset({"apel", "senam"})


class EventPackError(PresensiError, ValueError):
    """An event pack is malformed, or its signature does not verify."""

    screen_text = "Paket acara tidak sah — hubungi operator"


def parse_utc(text: str) -> datetime:
    """An RFC 3339 instant in UTC (``2026-11-23T00:00:00Z``)."""
    if not text.endswith("Z"):
        raise ValueError(f"{text!r}: instants in a pack are UTC and end with 'Z'")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def format_utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Location(_Model):
    name: str = Field(min_length=1, max_length=200, description="Where: 'Lapangan Tugu, Paringin'.")
    lat: str | None = Field(None, description="Latitude as a decimal string (no floats in signed data).")
    lon: str | None = Field(None, description="Longitude as a decimal string.")

    @field_validator("lat", "lon")
    @classmethod
    def _decimal(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            number = float(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a decimal number") from exc
        if not -180 <= number <= 180:
            raise ValueError(f"{value} is not a coordinate")
        return value


class EventUnit(_Model):
    """One unit (portable kiosk team) at the event and whom it serves."""

    code: str = Field(min_length=1, max_length=20, description="'I' … 'IX', or any short code.")
    label: str = Field("", max_length=80, description="'Unit IV'.")
    serves: str = Field("", max_length=400, description="Who, in words: 'Eselon II', 'Dinas Kesehatan, Dinas PUPR, …'.")
    offices: list[str] = Field(default_factory=list, description="Office (unit kerja) codes served.")
    eselon: list[str] = Field(default_factory=list, description="Eselon levels served ('II', 'III').")
    devices: list[str] = Field(default_factory=list, description="Device ids that act as this unit.")

    @property
    def display(self) -> str:
        return self.label or f"Unit {self.code}"


class Participant(_Model):
    id: str = Field(min_length=1, max_length=64, description="NIP or staff id.")
    name: str = Field("", max_length=120)
    office: str = Field("", max_length=40, description="Unit kerja (OPD) code.")
    unit: str = Field("", max_length=20, description="Code of the event unit that serves them ('' when one unit serves all).")


class EventPack(_Model):
    id: str = Field(min_length=1, max_length=80)
    kind: Literal["apel", "senam", "tausiyah", "lainnya"]
    title: str = Field(min_length=1, max_length=200)
    location: Location
    zone: str = "Asia/Jakarta"
    starts_at: str
    ends_at: str
    on_time_until: str | None = Field(None, description="Punches after this are 'terlambat' (None: all 'hadir').")
    counts_as_masuk: bool | None = Field(
        None,
        description="Whether a punch at this event on a working day is that day's masuk (None: yes for apel and "
        "senam, which are Monday's and Friday's masuk in balangan-perbup-32-2020.txt Pasal 4 ayat 3; no otherwise).",
    )
    units: list[EventUnit] = Field(default_factory=list)
    participants: list[Participant] = Field(min_length=1)
    origin: Literal["server", "local"] = "server"
    issuer: str = Field("", max_length=120, description="'server' or 'device:PK-…' and who made it.")
    issued_at: str
    version: int = Field(1, ge=1)

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, value: Any) -> Any:
        return _KIND_ALIASES.get(value, value) if isinstance(value, str) else value

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value not in ZONES:
            raise ValueError(f"unknown zone {value!r} (expected one of {', '.join(ZONES)})")
        return value

    @field_validator("starts_at", "ends_at", "on_time_until", "issued_at")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        if value is not None:
            parse_utc(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> EventPack:
        if parse_utc(self.ends_at) <= parse_utc(self.starts_at):
            raise ValueError("ends_at must come after starts_at")
        if self.on_time_until is not None and not parse_utc(self.starts_at) <= parse_utc(self.on_time_until):
            raise ValueError("on_time_until must not come before starts_at")
        codes = [u.code for u in self.units]
        if len(set(codes)) != len(codes):
            raise ValueError("unit codes must be unique")
        ids = [p.id for p in self.participants]
        if len(set(ids)) != len(ids):
            raise ValueError("each participant may be listed once")
        unknown = {p.unit for p in self.participants if p.unit and p.unit not in codes}
        if unknown:
            raise ValueError(f"participants name units the pack does not define: {', '.join(sorted(unknown))}")
        return self

    # -- derived ------------------------------------------------------------------------------

    @property
    def start(self) -> datetime:
        return parse_utc(self.starts_at)

    @property
    def end(self) -> datetime:
        return parse_utc(self.ends_at)

    @property
    def on_time_limit(self) -> datetime | None:
        return parse_utc(self.on_time_until) if self.on_time_until else None

    @property
    def is_masuk(self) -> bool:
        """A punch at this event counts as the working day's masuk (``counts_as_masuk``)."""
        return self.counts_as_masuk if self.counts_as_masuk is not None else self.kind in MASUK_KINDS

    @property
    def punch_kind(self) -> str:
        """The ``PunchRequest.kind`` of this event's punches."""
        return self.kind

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def unit(self, code: str) -> EventUnit | None:
        return next((u for u in self.units if u.code == code), None)

    def unit_for_device(self, device_id: str) -> str | None:
        """The unit code this device is assigned in the pack, if any."""
        return next((u.code for u in self.units if device_id in u.devices), None)

    def participant(self, employee_id: str) -> Participant | None:
        return self._by_id().get(employee_id)

    def _by_id(self) -> dict[str, Participant]:
        cache = self.__dict__.get("_participants_by_id")
        if cache is None:
            cache = {p.id: p for p in self.participants}
            object.__setattr__(self, "_participants_by_id", cache)  # frozen model: a private memo
        return cache

    def participants_of(self, unit: str | None) -> list[Participant]:
        """The roster a unit serves (all participants when ``unit`` is None)."""
        return [p for p in self.participants if unit is None or p.unit == unit]


#: Fields added after packs were first signed: left out of a pack's data while unset, so the
#: bytes of a pack signed before them stay the same.
_OPTIONAL_LATER = ("counts_as_masuk",)


def pack_data(pack: EventPack) -> dict[str, Any]:
    """The pack as JSON data, as it is signed and sent."""
    data = pack.model_dump(mode="json")
    for name in _OPTIONAL_LATER:
        if data.get(name) is None:
            data.pop(name, None)
    return data


def canonical_pack_bytes(pack: Mapping[str, Any] | EventPack) -> bytes:
    """The bytes the signature covers (see the module docstring)."""
    data = pack_data(pack) if isinstance(pack, EventPack) else dict(pack)
    return SIGNING_PREFIX + json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def sign_pack(pack: EventPack, private_key: Any, *, signer: str) -> dict[str, Any]:
    """The envelope for ``pack`` signed with an Ed25519 private key (the server's, or a device's
    :class:`DeviceIdentity`)."""
    if isinstance(private_key, DeviceIdentity):
        value, public_hex = private_key.sign(canonical_pack_bytes(pack)), private_key.public_hex
    else:
        # late: cryptography loads only when this runs
        from cryptography.hazmat.primitives import serialization

        value = private_key.sign(canonical_pack_bytes(pack)).hex()
        public_hex = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
    return {
        "format": FORMAT,
        "pack": pack_data(pack),
        "signature": {"alg": "ed25519", "signer": signer, "public_key": public_hex, "value": value},
    }


def parse_pack(data: Mapping[str, Any], where: str = "<pack>") -> EventPack:
    """Validate a pack (the ``pack`` member of an envelope), without checking a signature."""
    try:
        return EventPack.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'pack'}: {e['msg']}" for e in exc.errors()[:5])
        raise EventPackError(f"{where}: not a valid event pack: {problems}") from exc


def verify_pack(
    envelope: Mapping[str, Any], server_public_key_hex: str | None, *, device_public_key_hex: str | None = None
) -> EventPack:
    """The pack in ``envelope`` once its signature verifies.

    A server pack must verify against ``server_public_key_hex`` (the server's Ed25519 key that
    the unit was provisioned with); a local pack against ``device_public_key_hex``. The key named
    inside the envelope is never trusted by itself. Raises :class:`EventPackError` saying why.
    """
    if envelope.get("format") != FORMAT:
        raise EventPackError(f"not an event pack (format {envelope.get('format')!r}, expected {FORMAT!r})")
    raw = envelope.get("pack")
    signature = envelope.get("signature")
    if not isinstance(raw, Mapping) or not isinstance(signature, Mapping):
        raise EventPackError("the envelope needs 'pack' and 'signature' objects")
    if signature.get("alg") != "ed25519":
        raise EventPackError(f"unsupported signature algorithm {signature.get('alg')!r} (expected ed25519)")
    origin = raw.get("origin", "server")
    trusted = server_public_key_hex if origin == "server" else device_public_key_hex
    if not trusted:
        who = "the server's public key (event.server_public_key)" if origin == "server" else "this device's key"
        raise EventPackError(f"cannot verify a {origin} pack without {who}; set it and load the pack again")
    value = signature.get("value")
    if not isinstance(value, str) or not verify_signature(public_key_from_hex(trusted), value, canonical_pack_bytes(raw)):
        raise EventPackError(
            f"the {origin} pack's signature does not verify: it was altered or signed by another key; fetch it again from the server"
        )
    return parse_pack(raw)


def read_envelope(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EventPackError(f"cannot read the event pack {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EventPackError(f"{path} is not a JSON event pack: {exc}") from exc
    if not isinstance(data, dict):
        raise EventPackError(f"{path} is not a JSON object")
    return data


def write_envelope(envelope: Mapping[str, Any], path: Path) -> None:
    path.write_text(json.dumps(envelope, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


# -- the rule for several units at one event (the server calls this) -----------------------------


def attendance_once(punches: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """One attendance per (event, employee), whichever units they punched at.

    ``punches`` are punch records with at least ``event_id``, ``employee_id``, ``instant`` (RFC
    3339 UTC, as stored) and ``id``; punches without an event are ignored. The earliest punch
    counts (ties broken by the punch id, a UUIDv7, so every server picks the same one); the
    others are duplicates, whichever device made them. Pure: the reference server calls it.
    """
    first: dict[tuple[str, str], Mapping[str, Any]] = {}
    for punch in punches:
        event_id = punch.get("event_id")
        if not event_id:
            continue
        key = (str(event_id), str(punch["employee_id"]))
        held = first.get(key)
        if held is None or (punch["instant"], punch["id"]) < (held["instant"], held["id"]):
            first[key] = punch
    return first
