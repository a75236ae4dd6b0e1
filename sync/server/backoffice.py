"""The back office's pages (``/kantor``): login, the daily status of an office, keterangan with
their documents and the second officer's decision, pembatalan kehadiran, a day's history and the
monthly recap with its files. Bahasa Indonesia first, English second; times in the office's zone.

Admin PD sees their own office; BKPSDM sees every office and decides keterangan
(:mod:`sync.server.officers`). Every page needs a session; every form carries the session's
CSRF token; the cookie is HttpOnly, SameSite=Strict, and Secure unless the server runs plain HTTP
on loopback for tests.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from core.clock import Clock, local_time
from core.credentials import LoginRefused, constant_time_equal
from core.errors import AttendanceError
from core.i18n import LANG_COOKIE, LANGS, detail_text, language, text
from sync.server.daybook import DEFAULT_ZONE, DayBook, month_range
from sync.server.days import STATUS_TEXT, shown_reason
from sync.server.keterangan import CODES, MAX_DOCUMENT_BYTES, Document, KeteranganBook
from sync.server.manual_forms import daily_form_pdf, monthly_list_pdf
from sync.server.officers import BKPSDM, Officers, OfficerSession
from sync.server.recap import COLUMNS, Recaps
from sync.server.recap_export import FORMATS, render

log = logging.getLogger(__name__)

COOKIE = "presensi_kantor"
PREFIX = "/kantor"


class NeedOfficer(Exception):
    """No live back-office session: the handler sends the browser to the login page."""


@dataclass
class BackOffice:
    officers: Officers
    days: DayBook
    keterangan: KeteranganBook
    recaps: Recaps
    clock: Clock
    templates: Jinja2Templates
    title: str
    secure_cookie: bool


def _office_of(back: BackOffice, session: OfficerSession, wanted: str | None) -> tuple[str, list[dict[str, Any]]]:
    offices = back.recaps.offices(session.officer.scope)
    codes = [str(o["code"]) for o in offices]
    chosen = wanted if wanted is not None and wanted in codes else (codes[0] if codes else "")
    return chosen, offices


router = APIRouter(prefix=PREFIX, include_in_schema=False)


async def officer(request: Request) -> OfficerSession:
    back: BackOffice = request.app.state.backoffice
    session = await run_in_threadpool(back.officers.session, request.cookies.get(COOKIE))
    if session is None:
        raise NeedOfficer
    return session


async def checked(request: Request, session: OfficerSession = Depends(officer)) -> OfficerSession:  # noqa: B008
    form = await request.form()
    if not constant_time_equal(str(form.get("csrf") or ""), session.csrf):
        raise AttendanceError(
            "the form's token does not match the session", screen_text="Formulir kedaluwarsa; muat ulang halaman"
        )
    return session


Officer = Annotated[OfficerSession, Depends(officer)]
Checked = Annotated[OfficerSession, Depends(checked)]


def page(request: Request, name: str, session: OfficerSession | None, status: int = 200, **values: Any) -> Response:
    back: BackOffice = request.app.state.backoffice
    return back.templates.TemplateResponse(
        request,
        name,
        {
            "title": back.title,
            "session": session,
            "status_text": STATUS_TEXT,
            "codes": CODES,
            "day_reason": lambda reason: shown_reason(reason, language(request.cookies.get(LANG_COOKIE))),
            **values,
        },
        status_code=status,
    )


def _say(request: Request, key: str) -> str:
    return text(key, language(request.cookies.get(LANG_COOKIE)))


@router.get("/bahasa/{code}")
async def choose_language(code: str, next: str = PREFIX) -> Response:
    """The language switch of every server page: remembered in the maintenance page's cookie."""
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else PREFIX
    response = RedirectResponse(target, status_code=303)
    if code in LANGS:
        response.set_cookie(LANG_COOKIE, code, samesite="strict", path="/", max_age=3600 * 24 * 365)
    return response


@router.get("/masuk", response_class=HTMLResponse)
async def login_form(request: Request, error: str = "") -> Response:
    return page(request, "kantor_login.html", None, error=error)


@router.post("/masuk")
async def login(request: Request, name: Annotated[str, Form()], password: Annotated[str, Form()]) -> Response:
    back: BackOffice = request.app.state.backoffice
    addr = request.client.host if request.client else ""
    try:
        token, _ = await run_in_threadpool(back.officers.login, name, password, addr)
    except LoginRefused as exc:
        return page(request, "kantor_login.html", None, status=401 if exc.retry_after_s is None else 429, error=exc.screen_text)
    response = RedirectResponse(f"{PREFIX}", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=back.secure_cookie, path="/")
    return response


@router.post("/keluar")
async def logout(request: Request, session: Checked) -> Response:
    back: BackOffice = request.app.state.backoffice
    token = request.cookies.get(COOKIE)
    if token:
        await run_in_threadpool(back.officers.logout, token)
    response = RedirectResponse(f"{PREFIX}/masuk", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("", response_class=HTMLResponse)
async def daily(request: Request, session: Officer, office: str | None = None, day: str | None = None) -> Response:
    back: BackOffice = request.app.state.backoffice
    chosen, offices = _office_of(back, session, office)
    zone = next((o["zone"] for o in offices if o["code"] == chosen), DEFAULT_ZONE) or DEFAULT_ZONE
    today = local_time(back.clock.now(), zone).date()
    try:
        shown = date.fromisoformat(day) if day else today
    except ValueError:
        shown = today
    await run_in_threadpool(back.days.refresh)
    await run_in_threadpool(back.days.close_month, f"{shown:%Y-%m}", chosen or None)
    rows = await run_in_threadpool(back.recaps.people_on, chosen, shown) if chosen else []
    return page(request, "kantor_hari.html", session, offices=offices, office=chosen, day=shown, rows=rows, zone=zone)


@router.get("/riwayat/{employee_id}/{day}", response_class=HTMLResponse)
async def history(request: Request, session: Officer, employee_id: str, day: str, error: str = "") -> Response:
    back: BackOffice = request.app.state.backoffice
    try:
        when = date.fromisoformat(day)
    except ValueError:
        return HTMLResponse(_say(request, "s.bad_date"), status_code=400)
    found = await run_in_threadpool(back.days.day, employee_id, when)
    if found is None or not session.officer.sees(found["unit_code"]):
        return page(
            request,
            "kantor_riwayat.html",
            session,
            status=404,
            day=when,
            employee_id=employee_id,
            versions=[],
            found=None,
            error="",
        )
    versions = await run_in_threadpool(back.days.versions, employee_id, when)
    return page(
        request,
        "kantor_riwayat.html",
        session,
        day=when,
        employee_id=employee_id,
        versions=versions,
        found=found,
        error=error,
    )


@router.get("/keterangan", response_class=HTMLResponse)
async def keterangan_page(request: Request, session: Officer, message: str = "", error: str = "") -> Response:
    back: BackOffice = request.app.state.backoffice
    rows = await run_in_threadpool(back.keterangan.listing, session.officer)
    return page(
        request,
        "kantor_keterangan.html",
        session,
        rows=rows,
        message=message,
        error=error,
        max_mb=MAX_DOCUMENT_BYTES // 2**20,
    )


@router.post("/keterangan")
async def keterangan_submit(
    request: Request,
    *,
    session: Checked,
    employee_id: Annotated[str, Form()],
    code: Annotated[str, Form()],
    first_day: Annotated[str, Form()],
    last_day: Annotated[str, Form()],
    document: Annotated[UploadFile, File()],
    note: Annotated[str, Form()] = "",
) -> Response:
    back: BackOffice = request.app.state.backoffice
    data = await document.read(MAX_DOCUMENT_BYTES + 1)
    try:
        first, last = date.fromisoformat(first_day), date.fromisoformat(last_day)
    except ValueError:
        return RedirectResponse(f"{PREFIX}/keterangan?error=Tanggal+tidak+sah", status_code=303)
    try:
        number = await run_in_threadpool(
            lambda: back.keterangan.submit(
                session.officer,
                employee_id.strip(),
                code,
                first=first,
                last=last,
                document=Document(document.filename or "dokumen", data),
                note=note,
            )
        )
    except AttendanceError as exc:
        rows = await run_in_threadpool(back.keterangan.listing, session.officer)
        return page(
            request,
            "kantor_keterangan.html",
            session,
            status=422,
            rows=rows,
            message="",
            error=exc.screen_text,
            max_mb=MAX_DOCUMENT_BYTES // 2**20,
        )
    return RedirectResponse(f"{PREFIX}/keterangan?message=Keterangan+%23{number}+diajukan", status_code=303)


@router.post("/keterangan/{number}/putusan")
async def keterangan_decide(request: Request, session: Checked, number: int, decision: Annotated[str, Form()]) -> Response:
    back: BackOffice = request.app.state.backoffice
    try:
        await run_in_threadpool(back.keterangan.decide, session.officer, number, decision == "setujui")
    except AttendanceError as exc:
        return RedirectResponse(f"{PREFIX}/keterangan?error={quote(exc.screen_text)}", status_code=303)
    return RedirectResponse(f"{PREFIX}/keterangan?message=Keterangan+%23{number}+diputuskan", status_code=303)


@router.get("/keterangan/{number}/dokumen")
async def keterangan_document(request: Request, session: Officer, number: int) -> Response:
    back: BackOffice = request.app.state.backoffice
    try:
        name, kind, data = await run_in_threadpool(back.keterangan.document, session.officer, number)
    except AttendanceError:
        return HTMLResponse(_say(request, "s.not_found"), status_code=404)
    return Response(
        data,
        media_type=kind,
        headers={"Content-Disposition": f'inline; filename="{name}"', "Content-Security-Policy": "sandbox"},
    )


@router.post("/pembatalan")
async def cancel(
    request: Request,
    *,
    session: Checked,
    employee_id: Annotated[str, Form()],
    day: Annotated[str, Form()],
    reason: Annotated[str, Form()],
    witnesses: Annotated[str, Form()],
    letter: Annotated[UploadFile, File()],
) -> Response:
    back: BackOffice = request.app.state.backoffice
    data = await letter.read(MAX_DOCUMENT_BYTES + 1)
    try:
        when = date.fromisoformat(day)
        await run_in_threadpool(
            lambda: back.keterangan.cancel_attendance(
                session.officer,
                employee_id,
                when,
                reason=reason,
                witnesses=witnesses.split(","),
                letter=Document(letter.filename or "surat", data),
            )
        )
    except ValueError as exc:
        text = getattr(exc, "screen_text", "Tanggal tidak sah")
        return RedirectResponse(f"{PREFIX}/riwayat/{quote(employee_id)}/{quote(day)}?error={quote(text)}", status_code=303)
    return RedirectResponse(f"{PREFIX}/riwayat/{quote(employee_id)}/{quote(day)}", status_code=303)


@router.get("/rekap", response_class=HTMLResponse)
async def recap_page(request: Request, session: Officer, month: str | None = None, office: str | None = None) -> Response:
    back: BackOffice = request.app.state.backoffice
    chosen, offices = _office_of(back, session, office)
    month = month or f"{local_time(back.clock.now(), DEFAULT_ZONE):%Y-%m}"
    try:
        month_range(month)
    except ValueError:
        return HTMLResponse(_say(request, "s.bad_month"), status_code=400)
    recap = await run_in_threadpool(back.recaps.office, month, chosen) if chosen else None
    return page(
        request,
        "kantor_rekap.html",
        session,
        offices=offices,
        office=chosen,
        month=month,
        recap=recap,
        columns=COLUMNS,
        formats=FORMATS,
    )


@router.get("/formulir.pdf")
async def manual_form(
    request: Request, session: Officer, office: str, day: str | None = None, month: str | None = None
) -> Response:
    back: BackOffice = request.app.state.backoffice
    chosen, offices = _office_of(back, session, office)
    if chosen != office:
        return HTMLResponse(_say(request, "s.not_your_office"), status_code=403)
    found = next(o for o in offices if o["code"] == office)
    try:
        when = date.fromisoformat(day) if day else None
        if month:
            month_range(month)
    except ValueError:
        return HTMLResponse(_say(request, "s.bad_date"), status_code=400)
    people = await run_in_threadpool(back.recaps.people_on, office, when or local_time(back.clock.now(), found["zone"]).date())
    if when is not None:
        data = await run_in_threadpool(daily_form_pdf, found["name"], found["zone"], when, people)
    elif month:
        data = await run_in_threadpool(monthly_list_pdf, found["name"], found["zone"], month, people)
    else:
        return HTMLResponse(_say(request, "s.give_day_or_month"), status_code=400)
    name = f"formulir-{office}-{day or month}.pdf"
    return Response(data, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/rekap.{fmt}")
async def recap_file(request: Request, session: Officer, fmt: str, month: str, office: str | None = None) -> Response:
    back: BackOffice = request.app.state.backoffice
    if fmt not in FORMATS:
        return HTMLResponse(_say(request, "s.unknown_format"), status_code=404)
    scope = session.officer.scope
    if office and scope is not None and office != scope:
        return HTMLResponse(_say(request, "s.not_your_office"), status_code=403)
    try:
        month_range(month)
    except ValueError:
        return HTMLResponse(_say(request, "s.bad_month"), status_code=400)
    recaps = await run_in_threadpool(back.recaps.all_offices, month, office or scope)
    data, media = await run_in_threadpool(render, recaps, fmt)
    name = f"rekap-{office or scope or 'semua'}-{month}.{fmt}"
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


#: The server's older pages and their JSON (devices, events): every office's data, so BKPSDM's.
GUARDED = ("/devices", "/events", "/admin/")


def add_backoffice_routes(app: FastAPI, back: BackOffice, *, open_pages: bool = False) -> None:
    """Mount the back office on ``app``; unless ``open_pages``, the device and event pages and
    ``/admin/events`` need a BKPSDM session too (they show every office)."""
    app.state.backoffice = back

    if not open_pages:

        @app.middleware("http")
        async def bkpsdm_only(request: Request, call_next: Any) -> Response:
            path = request.url.path
            if path != "/" and not path.startswith(GUARDED):
                return await call_next(request)  # type: ignore[no-any-return]
            session = await run_in_threadpool(back.officers.session, request.cookies.get(COOKIE))
            if session is None:
                if path.startswith("/admin/"):
                    return JSONResponse({"error": "log in to the back office first (/kantor/masuk)"}, status_code=401)
                return RedirectResponse(f"{PREFIX}/masuk", status_code=303)
            if session.officer.role != BKPSDM:
                return HTMLResponse(_say(request, "s.bkpsdm_only"), status_code=403)
            return await call_next(request)  # type: ignore[no-any-return]

    app.include_router(router)

    @app.exception_handler(NeedOfficer)
    async def _need_officer(request: Request, exc: NeedOfficer) -> Response:
        return RedirectResponse(f"{PREFIX}/masuk", status_code=303)

    @app.exception_handler(AttendanceError)
    async def _refused(request: Request, exc: AttendanceError) -> Response:
        lang = language(request.cookies.get(LANG_COOKIE))
        return HTMLResponse(
            f"<!doctype html><html lang='{lang}'><p>{html.escape(detail_text(exc.screen_text, lang))}</p>",
            status_code=403 if "token" in str(exc) else 422,
        )
