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
from core.i18n import CODES, detail_text, text, word
from core.store.accounts import Session
from core.timekeeping import EARLIEST_TRUE_TIME, LATEST_TRUE_TIME, TypedTimeImpossible, TypedTimeRefused
from kiosk.web.pages import Ctx, note, render
from kiosk.web.security import TECH_ONLY, say

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)

#: The kinds of fault a report names, in the catalogue's words (core.i18n CODES["fault"]).
FAULT_KINDS = tuple(CODES["fault"])
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
        return system_view(ctx, request, 400, error=say(request, "page.unknown_service", unit=unit))
    if confirmed != "yes":
        return confirm(request, "/system/restart", say(request, "page.confirm_restart", unit=unit), {"unit": unit})
    if ctx.services.system is None:
        return system_view(ctx, request, 503, error=say(request, "page.system_not_connected"))
    try:
        ctx.services.system.restart_service(unit)
    except PresensiError as exc:
        note(ctx, session, "system.restart.failed", unit=unit, reason=str(exc))
        return system_view(ctx, request, 500, error=str(exc))
    note(ctx, session, "system.restart", unit=unit)
    return system_view(ctx, request, message=say(request, "page.restarted", unit=unit))


@router.post("/system/reboot", include_in_schema=False)
def reboot(
    request: Request, ctx: Ctx, confirmed: Annotated[str, Form(max_length=5)] = "", session: Session = TECH_ONLY
) -> Response:
    if confirmed != "yes":
        return confirm(request, "/system/reboot", say(request, "page.confirm_reboot"), {})
    if ctx.services.system is None:
        return system_view(ctx, request, 503, error=say(request, "page.system_not_connected"))
    note(ctx, session, "system.reboot")
    try:
        ctx.services.system.reboot()
    except PresensiError as exc:
        return system_view(ctx, request, 500, error=str(exc))
    return system_view(ctx, request, message=say(request, "page.rebooted"))


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
        return system_view(ctx, request, 409, error=say(request, "page.clock_already_synced"))
    typed = parse_typed_time(local, ctx.zone)
    if typed is None:
        return system_view(ctx, request, 400, error=say(request, "page.time_format"))
    if confirmed != "yes":
        return confirm(
            request,
            "/system/time",
            say(request, "page.confirm_set_time", time=f"{local.replace('T', ' ')} {ctx.zone_abbr}"),
            {"local": local, "typed_mono_ns": str(ctx.clock.monotonic_ns())},
        )
    # The time typed was true when it was sent, not when it was confirmed: add the seconds
    # the confirmation took (on the monotonic clock; at most ten minutes).
    waited_ns = ctx.clock.monotonic_ns() - typed_mono_ns if typed_mono_ns else 0
    instant = typed + timedelta(seconds=min(max(waited_ns / 1e9, 0.0), CONFIRM_WAIT_MAX_S))
    if ctx.services.system is None:
        return system_view(ctx, request, 503, error=say(request, "page.system_not_connected"))
    before = ctx.clock.now()
    anchored, error = step_clock(ctx, instant, request.state.lang)
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
    return system_view(ctx, request, message=say(request, "page.clock_set", time=f"{local.replace('T', ' ')} {ctx.zone_abbr}"))


# -- fault report ------------------------------------------------------------------------------


@router.get("/report", include_in_schema=False)
def report_form(request: Request, ctx: Ctx) -> Response:
    now = ctx.clock.now()
    failing = [p for p in read_all(ctx.db.get(), now) if p.status != "ok" or p.stale]
    kind = next((PART_TO_KIND.get(p.part, "lainnya") for p in failing), "lainnya")
    lang = request.state.lang
    description = "\n".join(
        f"{word('part', p.part, lang)}: {detail_text(p.detail, lang)}"
        + (f" — {p.last_error}" if p.last_error else "")
        + (f" ({word('health', 'stale', lang)})" if p.stale else "")
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
    if kind not in FAULT_KINDS:
        kind = "lainnya"
    now = ctx.clock.now()
    note(ctx, session, "report.make", kind=kind, date=date)
    return render(
        request,
        "report.html",
        date=date,
        kind=kind,
        description=description,
        reporter=reporter or session.username,
        office=office,
        device_id=ctx.device_id,
        unit_name=ctx.config.unit.name,
        made_at=local_time(now, ctx.zone).strftime("%Y-%m-%d %H:%M"),
        zone=ctx.zone_abbr,
        parts=read_all(ctx.db.get(), now),
    )


def step_clock(ctx: WebContext, instant: datetime, lang: str = "id") -> tuple[bool, str | None]:
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
        return True, text(
            "page.year_impossible", lang, year=exc.typed.year, first=EARLIEST_TRUE_TIME.year, last=LATEST_TRUE_TIME.year - 1
        )
    except TypedTimeRefused as exc:
        server = local_time(exc.server_time, ctx.zone).strftime("%Y-%m-%d %H:%M:%S")
        return True, text("page.time_contradicts_server", lang, offset=f"{exc.offset_s:+.0f}", server=f"{server} {ctx.zone_abbr}")
    return True, None
