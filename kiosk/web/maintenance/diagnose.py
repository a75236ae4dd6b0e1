"""The diagnostics button: checks in the order a technician would, each answered in plain
language with what to do, in Bahasa Indonesia and English from the catalogue (``diag.*`` in
:mod:`core.i18n`).

Order: power → cable → IP address and subnet → central server (DNS, TCP, TLS, auth) → clock →
disk → devices and services → database → the remaining ``presensi doctor`` findings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.clock import ClockState
from core.health import PartHealth
from core.i18n import LANGS, detail_text, text, word
from kiosk.checks.findings import Finding, Status
from kiosk.web.sources.hostinfo import Disk, Interface, gateway_in_subnet
from kiosk.web.sources.netprobe import ProbeStep
from kiosk.web.status import SyncState


@dataclass(frozen=True)
class Answer:
    step: str
    status: str  # ok | warn | fail | skip
    say_id: str
    say_en: str
    todo_id: str = ""
    todo_en: str = ""


@dataclass(frozen=True)
class Facts:
    under_voltage: bool | None
    interfaces: Sequence[Interface]
    gateway: str | None
    server_configured: bool
    probe: Sequence[ProbeStep]
    clock_state: ClockState
    disk: Disk | None
    min_free_mb: int
    parts: Sequence[PartHealth]
    sync: SyncState
    integrity_ok: bool
    integrity_message: str
    doctor: Sequence[Finding]


def _answer(step: str, status: str, say: str, todo: str = "", **values: object) -> Answer:
    """An answer whose sentence (and what to do) are the catalogue's ``diag.{say}`` and
    ``diag.{todo}``; a value given as ``{"id": …, "en": …}`` is taken in each language."""

    def said(key: str, lang: str) -> str:
        return text(f"diag.{key}", lang, **{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()})

    return Answer(
        step, status, said(say, "id"), said(say, "en"), said(todo, "id") if todo else "", said(todo, "en") if todo else ""
    )


def _in_both(make: Callable[[str], str]) -> dict[str, str]:
    return {lang: make(lang) for lang in LANGS}


def diagnose(f: Facts) -> list[Answer]:
    """Every check, in the order a technician would make them."""
    out: list[Answer] = []
    for check in (_power, _cable, _ip, _server, _clock, _disk, _devices, _database, _rest_of_doctor):
        out.extend(check(f))
    return out


def _power(f: Facts) -> list[Answer]:
    """Check 1: power."""
    if f.under_voltage:
        return [_answer("power", "fail", "under_voltage", "under_voltage_todo")]
    if f.under_voltage is None:
        return [_answer("power", "skip", "voltage_unknown")]
    return [_answer("power", "ok", "power_ok")]


def _cable(f: Facts) -> list[Answer]:
    """Check 2: cable / link."""
    wired = [i for i in f.interfaces if not i.wireless]
    linked = [i for i in f.interfaces if i.up and i.carrier is not False]
    if not f.interfaces:
        return [_answer("cable", "fail", "no_interface", "no_interface_todo")]
    if not linked:
        names = ", ".join(i.name for i in wired) or ", ".join(i.name for i in f.interfaces)
        return [_answer("cable", "fail", "no_link", "no_link_todo", names=names)]
    return [_answer("cable", "ok", "link_up", name=linked[0].name)]


def _ip(f: Facts) -> list[Answer]:
    """Check 3: IP and subnet."""
    linked = [i for i in f.interfaces if i.up and i.carrier is not False]
    addressed = [i for i in linked if i.addresses]
    if linked and not addressed:
        return [_answer("ip", "fail", "no_ip", "no_ip_todo")]
    if addressed and f.gateway and not any(gateway_in_subnet(i.addresses, f.gateway) for i in addressed):
        addrs = ", ".join(a for i in addressed for a in i.addresses)
        return [_answer("ip", "fail", "wrong_subnet", "wrong_subnet_todo", addrs=addrs, gateway=f.gateway)]
    if addressed:
        addrs = ", ".join(a for i in addressed for a in i.addresses)
        gw = f", gateway {f.gateway}" if f.gateway else ""
        return [_answer("ip", "ok", "ip_ok", addrs=addrs, gateway=gw)]
    return []


def _clock(f: Facts) -> list[Answer]:
    """Check 5: clock."""
    if f.clock_state is ClockState.SYNCED:
        return [_answer("clock", "ok", "clock_ok")]
    if f.clock_state is ClockState.RTC:
        return [_answer("clock", "warn", "clock_rtc", "clock_todo")]
    return [_answer("clock", "fail", "clock_none", "clock_todo")]


def _disk(f: Facts) -> list[Answer]:
    """Check 6: disk."""
    if f.disk is None:
        return [_answer("disk", "fail", "disk_unknown", "disk_unknown_todo")]
    if f.disk.free_mb < f.min_free_mb:
        return [_answer("disk", "fail", "disk_full", "disk_full_todo", mb=f"{f.disk.free_mb:.0f}")]
    return [_answer("disk", "ok", "disk_ok", mb=f"{f.disk.free_mb:.0f}")]


def _devices(f: Facts) -> list[Answer]:
    """Check 7: devices and services, named in the catalogue's words (``part``)."""
    out: list[Answer] = []
    for p in f.parts:
        name = {lang: word("part", p.part, lang) for lang in LANGS}
        err = f": {p.last_error}" if p.last_error else ""
        said = {lang: detail_text(p.detail, lang) or word("health", "ok", lang) for lang in LANGS}
        if p.stale:
            out.append(_answer(p.part, "fail", "stale", "stale_todo", part=name, at=p.updated_at))
        elif p.status != "ok":
            status = "fail" if p.status == "fail" else "warn"
            detail = {lang: said[lang] + err for lang in LANGS}
            out.append(_answer(p.part, status, "part_problem", "part_problem_todo", part=name, detail=detail))
        else:
            out.append(_answer(p.part, "ok", "part_ok", part=name, detail=said))
    return out


def _database(f: Facts) -> list[Answer]:
    """Check 8: database."""
    if f.integrity_ok:
        return [_answer("database", "ok", "db_ok")]
    return [_answer("database", "fail", "db_damaged", "db_damaged_todo", message=f.integrity_message)]


def _rest_of_doctor(f: Facts) -> list[Answer]:
    """Check 9: the rest of doctor's findings, their sentences in each language where the
    catalogue knows them."""
    out: list[Answer] = []
    covered = {"disk", "clock", "database"}
    for finding in f.doctor:
        if finding.part in covered or finding.status is Status.OK:
            continue
        status = "fail" if finding.status is Status.FAIL else "warn"
        out.append(
            Answer(
                finding.part,
                status,
                f"{word('part', finding.part, 'id')}: {detail_text(finding.detail, 'id')}",
                f"{word('part', finding.part, 'en')}: {detail_text(finding.detail, 'en')}",
                detail_text(finding.todo, "id"),
                detail_text(finding.todo, "en"),
            )
        )
    return out


def _server(f: Facts) -> list[Answer]:
    """Check 4: central server (the first failed probe step says what to do)."""
    if not f.server_configured:
        return [_answer("server", "skip", "no_server", "no_server_todo")]
    by = {s.step: s for s in f.probe}
    for step in ("dns", "tcp", "tls", "auth"):
        s = by.get(step)
        if s is not None and s.ok is False:
            return [_answer("server", "fail", f"{step}_failed", f"{step}_failed_todo", detail=_in_both(s.shown))]
    if f.sync.unsent:
        return [_answer("server", "ok", "server_ok_unsent", n=f.sync.unsent)]
    return [_answer("server", "ok", "server_ok")]
