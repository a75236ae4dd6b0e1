"""The dashboard (live) and the diagnostics button."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import asdict, replace
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel

from core.clock import ClockState, local_time, shown_time
from core.health import PartHealth, read_all
from core.i18n import detail_text, text
from core.store.accounts import Session
from core.store.db import DB_FILENAME, quick_check
from core.store.health import part_report
from kiosk.web.context import WebContext
from kiosk.web.maintenance.diagnose import Facts, diagnose
from kiosk.web.pages import Ctx, note, render
from kiosk.web.security import TECH_ONLY
from kiosk.web.sources.netprobe import ProbeStep
from kiosk.web.status import FaceGallery, face_gallery, sync_state

log = logging.getLogger(__name__)

PROBE_TTL = timedelta(seconds=30)
INTEGRITY_TTL = timedelta(minutes=10)


class InterfaceOut(BaseModel):
    name: str
    up: bool
    carrier: bool | None
    addresses: list[str]
    wireless: bool


class ProbeOut(BaseModel):
    step: str
    ok: bool | None
    detail: str
    ms: float | None


class SyncOut(BaseModel):
    last_seq: int
    acked_seq: int
    unsent: int
    oldest_unsent_at: str | None
    oldest_unsent_age_s: float | None
    last_sync_at: str | None
    online: bool | None


class DatabaseOut(BaseModel):
    size_mb: float
    integrity_ok: bool
    integrity_message: str
    checked_at: str


class DiskOut(BaseModel):
    path: str
    total_mb: float
    free_mb: float


class FacesOut(BaseModel):
    embedder: str
    enabled: bool
    active: int
    with_template: int
    without_template: int
    other_embedder_only: int
    lookalike_pairs: int
    lookalikes: list[str]


def faces_out(gallery: FaceGallery) -> FacesOut:
    return FacesOut(**{**asdict(gallery), "lookalikes": list(gallery.lookalikes)})


class DashboardOut(BaseModel):
    unit_name: str
    device_id: str
    now: str
    local_time: str
    zone: str
    clock_state: str
    clock_offset_s: float | None
    parts: list[PartHealth]
    database: DatabaseOut
    disk: DiskOut | None
    cpu_temp_c: float | None
    uptime_s: float | None
    under_voltage: bool | None
    interfaces: list[InterfaceOut]
    gateway: str | None
    server: list[ProbeOut]
    server_checked_at: str | None
    sync: SyncOut
    faces: FacesOut


class AnswerOut(BaseModel):
    step: str
    status: str
    say: str
    todo: str


class DiagnosticsOut(BaseModel):
    summary: str
    answers: list[AnswerOut]


class DashboardCache:
    """The last server probe and integrity check, reused for a while (one per app, on ``app.state``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.probe: tuple[datetime, list[ProbeStep]] | None = None
        self.integrity: tuple[datetime, bool, str] | None = None


async def dashboard_cache(request: Request) -> DashboardCache:
    cache: DashboardCache = request.app.state.dashboard_cache
    return cache


Cache = Annotated[DashboardCache, Depends(dashboard_cache)]
router = APIRouter()


def probe(ctx: WebContext, cache: DashboardCache, force: bool = False) -> tuple[datetime, list[ProbeStep]]:
    now = ctx.clock.now()
    with cache.lock:
        if not force and cache.probe is not None and now - cache.probe[0] < PROBE_TTL:
            return cache.probe
    assert ctx.probe is not None
    steps = ctx.probe()
    with cache.lock:
        cache.probe = (now, steps)
    return now, steps


def integrity(ctx: WebContext, cache: DashboardCache, force: bool = False) -> tuple[datetime, bool, str]:
    now = ctx.clock.now()
    with cache.lock:
        if not force and cache.integrity is not None and now - cache.integrity[0] < INTEGRITY_TTL:
            return cache.integrity
    first = quick_check(ctx.db.get())
    result = (now, first == "ok", first)
    with cache.lock:
        cache.integrity = result
    return result


def clock_offset(ctx: WebContext) -> float | None:
    row = part_report(ctx.db.get(), "sync")
    if row is None:
        return None
    value = json.loads(row["metrics"]).get("clock_offset_s")
    return float(value) if isinstance(value, int | float) else None


def dashboard_data(ctx: WebContext, cache: DashboardCache, lang: str) -> DashboardOut:
    def shown(value: str) -> str:
        return shown_time(value, ctx.zone)

    conn = ctx.db.get()
    now = ctx.clock.now()
    db_path = ctx.data_dir / DB_FILENAME
    size = sum(p.stat().st_size for p in ctx.data_dir.glob(f"{DB_FILENAME}*") if p.is_file()) if db_path.exists() else 0
    checked, ok, message = integrity(ctx, cache)
    probed_at, steps = probe(ctx, cache)
    disk = ctx.host.disk(ctx.data_dir)
    return DashboardOut(
        unit_name=ctx.config.unit.name,
        device_id=ctx.device_id,
        now=now.isoformat(timespec="seconds"),
        local_time=local_time(now, ctx.zone).strftime("%Y-%m-%d %H:%M:%S"),
        zone=ctx.zone_abbr,
        clock_state=ClockState(ctx.clock_state.state()).value,
        clock_offset_s=clock_offset(ctx),
        parts=[replace(p, detail=detail_text(p.detail, lang, shown)) for p in read_all(conn, now)],
        database=DatabaseOut(
            size_mb=round(size / 2**20, 2), integrity_ok=ok, integrity_message=message, checked_at=checked.isoformat()
        ),
        disk=DiskOut(**asdict(disk)) if disk else None,
        cpu_temp_c=ctx.host.cpu_temp_c(),
        uptime_s=ctx.host.uptime_s(),
        under_voltage=ctx.host.under_voltage(),
        interfaces=[InterfaceOut(**{**asdict(i), "addresses": list(i.addresses)}) for i in ctx.host.interfaces()],
        gateway=ctx.host.default_gateway(),
        server=[ProbeOut(step=s.step, ok=s.ok, detail=s.shown(lang), ms=s.ms) for s in steps],
        server_checked_at=probed_at.isoformat(timespec="seconds"),
        sync=SyncOut(**asdict(sync_state(conn, now))),
        faces=faces_out(face_gallery(conn, ctx.config.face)),
    )


@router.get("/", include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    return render(request, "dashboard.html")


@router.get("/api/dashboard", response_model=DashboardOut, tags=["dashboard"])
def dashboard_api(request: Request, ctx: Ctx, cache: Cache) -> DashboardOut:
    """Everything the dashboard shows; the page polls it to stay live."""
    return dashboard_data(ctx, cache, request.state.lang)


@router.get("/diagnostics", include_in_schema=False)
def diagnostics_page(request: Request, session: Session = TECH_ONLY) -> Response:
    return render(request, "diagnostics.html")


@router.post("/api/diagnostics", response_model=DiagnosticsOut, tags=["diagnostics"])
def diagnostics_api(request: Request, ctx: Ctx, cache: Cache, session: Session = TECH_ONLY) -> DiagnosticsOut:
    """Run every check in order and say, in plain language, what to do."""
    conn = ctx.db.get()
    now = ctx.clock.now()
    _, steps = probe(ctx, cache, force=True)
    _, ok, message = integrity(ctx, cache, force=True)
    facts = Facts(
        under_voltage=ctx.host.under_voltage(),
        interfaces=ctx.host.interfaces(),
        gateway=ctx.host.default_gateway(),
        server_configured=bool(ctx.server_endpoint()[0]),
        probe=steps,
        clock_state=ClockState(ctx.clock_state.state()),
        disk=ctx.host.disk(ctx.data_dir),
        min_free_mb=ctx.config.store.min_free_mb,
        parts=read_all(conn, now),
        sync=sync_state(conn, now),
        integrity_ok=ok,
        integrity_message=message,
        doctor=ctx.doctor() if ctx.doctor else [],
    )
    answers = diagnose(facts)
    en = request.state.lang == "en"
    out = [
        AnswerOut(step=a.step, status=a.status, say=a.say_en if en else a.say_id, todo=a.todo_en if en else a.todo_id)
        for a in answers
    ]
    failing = [a for a in out if a.status == "fail"] or [a for a in out if a.status == "warn"]
    summary = text("diag.all_good", request.state.lang)
    if failing:
        summary = f"{failing[0].say} → {failing[0].todo}".strip(" →")
    note(
        ctx,
        session,
        "diagnostics.run",
        failed=sum(a.status == "fail" for a in out),
        first=failing[0].step if failing else "",
    )
    return DiagnosticsOut(summary=summary, answers=out)
