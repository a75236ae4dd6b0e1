"""System page (restart, reboot, set the time — each confirmed) and the fault report."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from core.clock import ClockState, local_time
from core.errors import PresensiError
from core.health import read_all
from core.store.accounts import Session
from core.timekeeping import EARLIEST_TRUE_TIME, LATEST_TRUE_TIME, TypedTimeImpossible, TypedTimeRefused
from kiosk.web.pages import Ctx, note, render
from kiosk.web.security import TECH_ONLY

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)

FAULT_KINDS = (
    ("kamera", "Kamera tidak berfungsi", "Camera not working"),
    ("pembaca_kartu", "Pembaca kartu tidak berfungsi", "Card reader not working"),
    ("sidik_jari", "Modul sidik jari tidak berfungsi", "Fingerprint module not working"),
    ("jaringan", "Tidak terhubung ke jaringan / server", "No network / server"),
    ("jam", "Jam perangkat salah", "Wrong clock"),
    ("layar", "Layar tidak menyala", "Screen not working"),
    ("daya", "Catu daya / listrik", "Power supply"),
    ("penyimpanan", "Penyimpanan penuh / rusak", "Storage full / damaged"),
    ("lainnya", "Lainnya", "Other"),
)
PART_TO_KIND = {"camera": "kamera", "card_reader": "pembaca_kartu", "fingerprint": "sidik_jari", "sync": "jaringan"}


#: The longest confirmation wait added to a typed time (a form left open longer is typed again).
CONFIRM_WAIT_MAX_S = 600.0


def parse_typed_time(text: str, zone: str) -> datetime | None:
    """The instant a technician typed (local time of ``zone``, to the second or the minute)."""
    for layout in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=ZoneInfo(zone))
        except ValueError:
            continue
    return None


router = APIRouter()


def system_view(ctx: WebContext, request: Request, status: int = 200, **extra: object) -> Response:
    state = ClockState(ctx.clock_state.state())
    return render(
        request,
        "system.html",
        status,
        units=ctx.config.web.services,
        clock_state=state.value,
        can_set_time=state is not ClockState.SYNCED,
        now_local=local_time(ctx.clock.now(), ctx.zone).strftime("%Y-%m-%dT%H:%M:%S"),
        zone=ctx.zone_abbr,
        connected=ctx.services.system is not None,
        **{"message": None, "error": None, **extra},
    )


def confirm(request: Request, action: str, what: str, fields: dict[str, str]) -> Response:
    return render(request, "confirm.html", action=action, what=what, fields=fields)


@router.get("/system", include_in_schema=False)
def system_page(request: Request, ctx: Ctx, session: Session = TECH_ONLY) -> Response:
    return system_view(ctx, request)


@router.post("/system/restart", include_in_schema=False)
def restart(
    request: Request,
    ctx: Ctx,
    unit: Annotated[str, Form(max_length=80)],
    confirmed: Annotated[str, Form(max_length=5)] = "",
    session: Session = TECH_ONLY,
) -> Response:
    if unit not in ctx.config.web.services:
        return system_view(ctx, request, 400, error=f"Layanan {unit!r} tidak dikenal.")
    if confirmed != "yes":
        return confirm(request, "/system/restart", f"Mulai ulang layanan {unit}? / Restart {unit}?", {"unit": unit})
    if ctx.services.system is None:
        return system_view(ctx, request, 503, error="Aksi sistem tidak tersambung.")
    try:
        ctx.services.system.restart_service(unit)
    except PresensiError as exc:
        note(ctx, session, "system.restart.failed", unit=unit, reason=str(exc))
        return system_view(ctx, request, 500, error=str(exc))
    note(ctx, session, "system.restart", unit=unit)
    return system_view(ctx, request, message=f"Layanan {unit} dimulai ulang.")


@router.post("/system/reboot", include_in_schema=False)
def reboot(
    request: Request, ctx: Ctx, confirmed: Annotated[str, Form(max_length=5)] = "", session: Session = TECH_ONLY
) -> Response:
    if confirmed != "yes":
        return confirm(request, "/system/reboot", "Nyalakan ulang perangkat? Presensi berhenti ±1 menit. / Reboot the unit?", {})
    if ctx.services.system is None:
        return system_view(ctx, request, 503, error="Aksi sistem tidak tersambung.")
    note(ctx, session, "system.reboot")
    try:
        ctx.services.system.reboot()
    except PresensiError as exc:
        return system_view(ctx, request, 500, error=str(exc))
    return system_view(ctx, request, message="Perangkat dinyalakan ulang.")


@router.post("/system/time", include_in_schema=False)
def set_time(
    request: Request,
    ctx: Ctx,
    *,
    local: Annotated[str, Form(max_length=20)],
    confirmed: Annotated[str, Form(max_length=5)] = "",
    typed_mono_ns: Annotated[int, Form(ge=0)] = 0,
    session: Session = TECH_ONLY,
) -> Response:
    if ClockState(ctx.clock_state.state()) is ClockState.SYNCED:
        return system_view(ctx, request, 409, error="Jam sudah tersinkron; waktu tidak boleh diubah manual.")
    typed = parse_typed_time(local, ctx.zone)
    if typed is None:
        return system_view(ctx, request, 400, error="Format waktu salah (YYYY-MM-DD HH:MM:SS) / Wrong time format.")
    if confirmed != "yes":
        return confirm(
            request,
            "/system/time",
            f"Setel jam ke {local.replace('T', ' ')} {ctx.zone_abbr}? / Set the clock?",
            {"local": local, "typed_mono_ns": str(ctx.clock.monotonic_ns())},
        )
    # The time typed was true when it was sent, not when it was confirmed: add the seconds
    # the confirmation took (on the monotonic clock; at most ten minutes).
    waited_ns = ctx.clock.monotonic_ns() - typed_mono_ns if typed_mono_ns else 0
    instant = typed + timedelta(seconds=min(max(waited_ns / 1e9, 0.0), CONFIRM_WAIT_MAX_S))
    if ctx.services.system is None:
        return system_view(ctx, request, 503, error="Aksi sistem tidak tersambung.")
    before = ctx.clock.now()
    anchored, error = step_clock(ctx, instant)
    if error:
        return system_view(ctx, request, 409, error=error)
    note(
        ctx,
        session,
        "system.set_time",
        to=instant.isoformat(),
        before=before.isoformat(timespec="seconds"),
        anchor=anchored,
    )
    return system_view(ctx, request, message=f"Jam disetel ke {local.replace('T', ' ')} {ctx.zone_abbr}.")


# -- fault report ------------------------------------------------------------------------------


@router.get("/report", include_in_schema=False)
def report_form(request: Request, ctx: Ctx) -> Response:
    now = ctx.clock.now()
    failing = [p for p in read_all(ctx.db.get(), now) if p.status != "ok" or p.stale]
    kind = next((PART_TO_KIND.get(p.part, "lainnya") for p in failing), "lainnya")
    description = "\n".join(
        f"{p.part}: {p.detail}" + (f" — {p.last_error}" if p.last_error else "") + (" (tidak menjawab)" if p.stale else "")
        for p in failing
    )
    return render(
        request,
        "report_form.html",
        kinds=FAULT_KINDS,
        kind=kind,
        description=description,
        date=local_time(now, ctx.zone).strftime("%Y-%m-%d"),
        device_id=ctx.device_id,
        unit_name=ctx.config.unit.name,
    )


@router.post("/report", include_in_schema=False)
def report(
    request: Request,
    ctx: Ctx,
    *,
    date: Annotated[str, Form(max_length=20)],
    kind: Annotated[str, Form(max_length=40)],
    description: Annotated[str, Form(max_length=4000)] = "",
    reporter: Annotated[str, Form(max_length=120)] = "",
    office: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    session: Session = request.state.session
    kinds = {k: (i, e) for k, i, e in FAULT_KINDS}
    if kind not in kinds:
        kind = "lainnya"
    now = ctx.clock.now()
    note(ctx, session, "report.make", kind=kind, date=date)
    return render(
        request,
        "report.html",
        date=date,
        kind=kinds[kind][0],
        description=description,
        reporter=reporter or session.username,
        office=office,
        device_id=ctx.device_id,
        unit_name=ctx.config.unit.name,
        made_at=local_time(now, ctx.zone).strftime("%Y-%m-%d %H:%M"),
        zone=ctx.zone_abbr,
        parts=read_all(ctx.db.get(), now),
    )


def step_clock(ctx: WebContext, instant: datetime) -> tuple[bool, str | None]:
    """Step the clock to ``instant``: through the TimeKeeper when there is one (it steps the clock
    through the system actions, records a technician anchor and corrects this boot's punches,
    docs/time.md), else directly. Returns (anchored, the refusal to show or None)."""
    assert ctx.services.system is not None
    keeper_set_time = getattr(ctx.clock_state, "set_time", None)
    if not callable(keeper_set_time):
        ctx.services.system.set_time(instant)
        return False, None
    try:
        keeper_set_time(instant.astimezone(UTC), ctx.services.system)
    except TypedTimeImpossible as exc:
        return True, (
            f"Tahun yang diketik ({exc.typed.year}) tidak mungkin benar "
            f"(harus {EARLIEST_TRUE_TIME.year}–{LATEST_TRUE_TIME.year - 1}); periksa kembali. / The year typed cannot be right."
        )
    except TypedTimeRefused as exc:
        server = local_time(exc.server_time, ctx.zone).strftime("%Y-%m-%d %H:%M:%S")
        return True, (
            f"Waktu yang diketik berbeda {exc.offset_s:+.0f} detik dari jam server ({server} {ctx.zone_abbr}); "
            "ketik jam server atau tunggu sinkronisasi. / The time typed contradicts the server's clock."
        )
    return True, None
