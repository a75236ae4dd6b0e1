"""Work pages: punches, export, logs, configuration (employees and enrolment: :mod:`employees`)."""

from __future__ import annotations

import difflib
import logging
import os
import shutil
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel

from core.config import KioskConfig, parse_config
from core.config.editable import locked_changes
from core.errors import ConfigError, PresensiError
from core.store import evidence, records
from core.store.accounts import Session
from kiosk.web.forms import OptionalDate, config_problems
from kiosk.web.pages import Ctx, note, render
from kiosk.web.security import ADMIN_ONLY, TECH_ONLY, say
from kiosk.web.sources.export import (
    FORMAT_LABELS,
    BundleChecker,
    NothingToExport,
    UnsafePath,
    companions,
    copy_to_stick,
    safe_child,
)
from kiosk.web.sources.logs import LEVELS, LogFilter
from sync.bundle import BundleCheck

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)

MAX_CHECK_BYTES = 64 * 1024 * 1024


class LogLineOut(BaseModel):
    at: str
    level: str
    unit: str
    message: str


router = APIRouter()


# -- punches (Admin PD) ------------------------------------------------------------------------


def punch_rows(ctx: WebContext, start: date | None, end: date | None, employee: str, limit: int) -> list[records.PunchRow]:
    return records.search_punches(ctx.db.get(), ctx.zone, start=start, end=end, employee=employee, limit=limit)


@router.get("/punches", include_in_schema=False)
def punches_page(
    request: Request,
    ctx: Ctx,
    *,
    start: OptionalDate = None,
    end: OptionalDate = None,
    employee: Annotated[str, Query(max_length=80)] = "",
    session: Session = ADMIN_ONLY,
) -> Response:
    rows = punch_rows(ctx, start, end, employee, 500)
    return render(request, "punches.html", rows=rows, start=start or "", end=end or "", employee=employee)


@router.get("/api/punches", response_model=list[records.PunchRow], tags=["punches"])
def punches_api(
    ctx: Ctx,
    *,
    start: OptionalDate = None,
    end: OptionalDate = None,
    employee: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    session: Session = ADMIN_ONLY,
) -> list[records.PunchRow]:
    """Punches by local date range (inclusive) and employee id or name, newest first."""
    return punch_rows(ctx, start, end, employee, limit)


@router.get("/punches/{punch_id}/photo", include_in_schema=False)
def punch_photo(
    request: Request, ctx: Ctx, punch_id: Annotated[str, PathParam(min_length=1, max_length=64)], session: Session = ADMIN_ONLY
) -> Response:
    """The evidence photo kept with a face punch (privacy.evidence_photos); every view is audited."""
    try:
        photo = evidence.photo_of(ctx.db.get(), punch_id)
    except PresensiError as exc:
        return Response(say(request, "page.photo_unreadable", error=exc), status_code=409, media_type="text/plain")
    if photo is None:
        return Response(say(request, "page.not_found"), status_code=404, media_type="text/plain")
    note(ctx, session, "evidence.view", punch=punch_id)
    return Response(photo, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


# -- export (Admin PD) -------------------------------------------------------------------------


def export_view(ctx: WebContext, request: Request, status: int = 200, **extra: object) -> Response:
    assert ctx.exporter is not None and ctx.usb is not None
    files = sorted(
        (p for p in ctx.export_dir.iterdir() if p.is_file() and not p.name.endswith((".part", ".tmp")) and p.name[0] != "."),
        reverse=True,
    )
    return render(
        request,
        "export.html",
        status,
        formats=ctx.exporter.formats(),
        labels=FORMAT_LABELS,
        can_check=isinstance(ctx.exporter, BundleChecker),
        sticks=ctx.usb.sticks(),
        files=[(p.name, p.stat().st_size) for p in files[:30]],
        **{"message": None, "error": None, "made": None, "verified": None, **extra},
    )


@router.get("/export", include_in_schema=False)
def export_page(request: Request, ctx: Ctx, session: Session = ADMIN_ONLY) -> Response:
    return export_view(ctx, request)


@router.post("/export", include_in_schema=False)
def export(
    request: Request,
    ctx: Ctx,
    *,
    fmt: Annotated[str, Form(max_length=20)],
    target: Annotated[str, Form(max_length=200)] = "download",
    start: Annotated[OptionalDate, Form()] = None,
    end: Annotated[OptionalDate, Form()] = None,
    session: Session = ADMIN_ONLY,
) -> Response:
    assert ctx.exporter is not None and ctx.usb is not None
    if fmt not in ctx.exporter.formats():
        return export_view(ctx, request, 400, error=say(request, "m.export_format_unknown", fmt=fmt))
    try:
        stick = None if target == "download" else ctx.usb.resolve(target)
    except UnsafePath as exc:
        note(ctx, session, "export.refused", target=target[:80], reason=str(exc))
        return export_view(ctx, request, 400, error="Tujuan ekspor tidak sah: pilih flashdisk dari daftar.")
    try:
        path = ctx.exporter.export(fmt, start, end, ctx.export_dir)
    except NothingToExport as exc:
        note(ctx, session, "export.empty", fmt=fmt)
        return export_view(ctx, request, message=f"{exc.screen_text}: semua presensi sudah diterima server.")
    except (PresensiError, OSError) as exc:
        note(ctx, session, "export.failed", fmt=fmt, reason=str(exc))
        return export_view(ctx, request, 500, error=f"Ekspor gagal: {exc}")
    made = companions(path)
    if stick is not None:
        try:
            copy_to_stick(made, stick)
        except (PresensiError, OSError) as exc:
            note(ctx, session, "export.failed", fmt=fmt, file=path.name, target=target, reason=str(exc))
            return export_view(
                ctx, request, 500, error=say(request, "page.copy_failed", target=target, error=exc), made=path.name
            )
        if path.suffix == ".zip" and isinstance(ctx.exporter, BundleChecker):
            check = ctx.exporter.check(safe_child(stick, path.name).read_bytes())  # what a stick really holds
            if not check.ok:
                note(ctx, session, "export.failed", fmt=fmt, file=path.name, target=target, reason=check.reason)
                return export_view(ctx, request, 500, error=f"Salinan di flashdisk rusak — ulangi. {check.message}")
    note(
        ctx,
        session,
        "export",
        fmt=fmt,
        file=path.name,
        files=len(made),
        target="download" if stick is None else target,
        start=str(start),
        end=str(end),
    )
    where = f" dan disalin ke flashdisk {target}" if stick is not None else ""
    return export_view(ctx, request, message=f"Berkas {', '.join(p.name for p in made)} dibuat{where}.", made=path.name)


@router.post("/export/verify", include_in_schema=False)
def verify_bundle(request: Request, ctx: Ctx, bundle: UploadFile, session: Session = ADMIN_ONLY) -> Response:
    """Check a bundle (e.g. one brought back on a stick) against this unit's key."""
    if not isinstance(ctx.exporter, BundleChecker):
        return export_view(ctx, request, 503, error="Pemeriksaan bundel tidak tersedia di sini.")
    data = bundle.file.read(MAX_CHECK_BYTES + 1)
    name = (bundle.filename or "")[:120]
    if len(data) > MAX_CHECK_BYTES:
        check = BundleCheck(False, "Bundel DITOLAK: berkas terlalu besar.", "larger than the page checks")
    else:
        check = ctx.exporter.check(data)
    note(ctx, session, "export.verify", file=name, ok=check.ok, reason=check.reason, count=check.count)
    if check.ok:
        return export_view(ctx, request, message=check.message, verified="ok")
    return export_view(ctx, request, 422, error=f"{check.message} ({check.reason})", verified="refused")


@router.get("/export/files/{name}", include_in_schema=False)
def export_file(request: Request, ctx: Ctx, name: str, session: Session = ADMIN_ONLY) -> Response:
    try:
        path = safe_child(ctx.export_dir, name)
    except UnsafePath:
        note(ctx, session, "export.download.refused", name=name[:80])
        return Response(say(request, "page.bad_file_name"), status_code=400, media_type="text/plain")
    if not path.is_file():
        return Response(say(request, "page.not_found"), status_code=404, media_type="text/plain")
    note(ctx, session, "export.download", file=path.name)
    return FileResponse(path, filename=path.name, media_type="application/octet-stream")


# -- logs (technician) -------------------------------------------------------------------------


def log_lines(ctx: WebContext, contains: str, level: str, limit: int) -> list[LogLineOut]:
    assert ctx.logs is not None
    lines = ctx.logs.read(LogFilter(contains=contains, min_level=level if level in LEVELS else "debug", limit=limit))
    return [LogLineOut(**asdict(line)) for line in lines]


@router.get("/logs", include_in_schema=False)
def logs_page(
    request: Request,
    ctx: Ctx,
    contains: Annotated[str, Query(max_length=100)] = "",
    level: Annotated[str, Query(max_length=10)] = "info",
    session: Session = TECH_ONLY,
) -> Response:
    return render(request, "logs.html", lines=log_lines(ctx, contains, level, 300), contains=contains, level=level, levels=LEVELS)


@router.get("/api/logs", response_model=list[LogLineOut], tags=["logs"])
def logs_api(
    ctx: Ctx,
    contains: Annotated[str, Query(max_length=100)] = "",
    level: Annotated[str, Query(pattern="^(debug|info|warning|error)$")] = "info",
    limit: Annotated[int, Query(ge=1, le=2000)] = 200,
    session: Session = TECH_ONLY,
) -> list[LogLineOut]:
    """The newest log lines matching the filter, oldest first."""
    return log_lines(ctx, contains, level, limit)


# -- configuration (technician) ----------------------------------------------------------------


def current_config_text(ctx: WebContext) -> str:
    if ctx.config_path is not None and ctx.config_path.exists():
        return ctx.config_path.read_text(encoding="utf-8")
    return ""


def running_config(ctx: WebContext, text: str) -> KioskConfig:
    """The configuration the file holds now (what a proposal is compared with)."""
    try:
        return parse_config(text, ctx.config_path) if text else KioskConfig()
    except ConfigError:
        return ctx.config


@router.get("/config", include_in_schema=False)
def config_page(request: Request, ctx: Ctx, session: Session = TECH_ONLY) -> Response:
    return render(
        request,
        "config.html",
        text=current_config_text(
            ctx,
        ),
        path=ctx.config_path,
        problems=[],
        diff=None,
        message=None,
    )


@router.post("/config", include_in_schema=False)
def config_submit(
    request: Request,
    ctx: Ctx,
    text: Annotated[str, Form(max_length=100_000)],
    apply: Annotated[str, Form(max_length=10)] = "",
    session: Session = TECH_ONLY,
) -> Response:
    """First submit: validate and show the diff. Submit again with ``apply=yes``: write it."""
    text = text.replace("\r\n", "\n")
    current = current_config_text(
        ctx,
    )
    diff = "".join(difflib.unified_diff(current.splitlines(True), text.splitlines(True), "sekarang", "baru"))
    try:
        problems = locked_changes(running_config(ctx, current), parse_config(text, ctx.config_path))
    except ConfigError as exc:
        problems = config_problems(exc, request.state.lang)
    if problems:
        return render(request, "config.html", 422, text=text, path=ctx.config_path, problems=problems, diff=diff, message=None)
    if apply != "yes" or ctx.config_path is None:
        return render(
            request,
            "config.html",
            text=text,
            path=ctx.config_path,
            problems=[],
            diff=diff or say(request, "page.no_changes"),
            message=None,
        )
    try:
        write_atomically(ctx.config_path, text)
    except OSError as exc:  # the installed layout: /etc/presensi is root's
        why = say(request, "page.config_not_writable", path=ctx.config_path, error=exc.strerror or exc)
        return render(request, "config.html", 409, text=text, path=ctx.config_path, problems=[why], diff=diff, message=None)
    note(
        ctx,
        session,
        "config.apply",
        path=str(ctx.config_path),
        changed_lines=sum(1 for ln in diff.splitlines() if ln[:1] in "+-"),
    )
    return render(
        request,
        "config.html",
        text=text,
        path=ctx.config_path,
        problems=[],
        diff=None,
        message="Konfigurasi disimpan. Mulai ulang layanan di halaman Sistem agar berlaku.",
    )


def write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.new")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    if path.exists():
        shutil.copymode(path, tmp)
    os.replace(tmp, path)
