"""The event pages of the reference server and their admin API: ``/events`` and ``/events/{id}``
(pages) and ``/admin/events``, ``/admin/events/{id}/attendance`` (JSON; ``.csv`` and ``.pdf`` for
the files), over :class:`sync.server.events.EventAttendance`. None of these is part of the sync
protocol; they sit with the device pages, behind the same admin networks and back-office login
(docs/sync-protocol.md, "The reference server")."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from core.schedule.events import EventPackError
from sync.server.events import EventAttendance, ServerEventReport, UnknownEvent
from sync.server.parts import Parts


def event_attendance(parts: Parts) -> EventAttendance:
    return EventAttendance(parts.storage, parts.clock)


Attendance = Annotated[EventAttendance, Depends(event_attendance)]
router = APIRouter()


async def report_or_error(attendance: EventAttendance, event_id: str, unit: str | None) -> ServerEventReport | JSONResponse:
    try:
        return await run_in_threadpool(attendance.report, event_id, unit or None)
    except UnknownEvent as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    except EventPackError as exc:
        return JSONResponse({"error": str(exc)}, status_code=422)


@router.get("/admin/events", include_in_schema=False)
async def events_json(attendance: Attendance) -> Response:
    return JSONResponse({"events": await run_in_threadpool(attendance.events)})


@router.get("/admin/events/{event_id}/attendance", include_in_schema=False)
async def attendance_json(attendance: Attendance, event_id: str, unit: str | None = None) -> Response:
    found = await report_or_error(attendance, event_id, unit)
    return found if isinstance(found, JSONResponse) else JSONResponse(found.as_json())


@router.get("/admin/events/{event_id}/attendance.csv", include_in_schema=False)
async def attendance_csv(attendance: Attendance, event_id: str, unit: str | None = None) -> Response:
    found = await report_or_error(attendance, event_id, unit)
    if isinstance(found, JSONResponse):
        return found
    name = _filename(event_id, unit, "csv")
    # UTF-8 with a byte order mark, as the unit writes it, for spreadsheet programs on Windows.
    return Response(
        found.report.csv_text().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/admin/events/{event_id}/attendance.pdf", include_in_schema=False)
async def attendance_pdf(attendance: Attendance, event_id: str, unit: str | None = None) -> Response:
    found = await report_or_error(attendance, event_id, unit)
    if isinstance(found, JSONResponse):
        return found
    pdf = await run_in_threadpool(found.report.pdf_bytes)
    name = _filename(event_id, unit, "pdf")
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/events", response_class=HTMLResponse, include_in_schema=False)
async def events_page(request: Request, parts: Parts, attendance: Attendance) -> Response:
    events = await run_in_threadpool(attendance.events)
    return parts.templates.TemplateResponse(request, "events.html", {"title": parts.config.title, "events": events})


@router.get("/events/{event_id}", response_class=HTMLResponse, include_in_schema=False)
async def event_page(request: Request, parts: Parts, attendance: Attendance, event_id: str, unit: str | None = None) -> Response:
    found = await report_or_error(attendance, event_id, unit)
    title = parts.config.title
    if isinstance(found, JSONResponse):
        reason = json.loads(bytes(found.body))["error"]
        return parts.templates.TemplateResponse(
            request,
            "event.html",
            {"title": title, "event_id": event_id, "problem": reason, "found": None},
            status_code=found.status_code,
        )
    return parts.templates.TemplateResponse(
        request,
        "event.html",
        {"title": title, "event_id": event_id, "problem": None, "found": found, "report": found.report, "unit": unit},
    )


def _filename(event_id: str, unit: str | None, suffix: str) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"hadir-{event_id}" + (f"-unit-{unit}" if unit else ""))
    return f"{stem}.{suffix}"
