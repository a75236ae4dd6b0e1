"""The device pages of the reference server: every unit, its refusals and recent punches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from core.i18n import text
from sync.server.page_words import page_language
from sync.server.parts import Parts

router = APIRouter()


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def devices_page(request: Request, parts: Parts) -> Response:
    devices = await run_in_threadpool(parts.ledger.devices)
    unknown = [r for r in await run_in_threadpool(parts.ledger.rejections, None, 100) if not r["known"]]
    recent = await run_in_threadpool(parts.ledger.recent_punches, None, 30)
    return parts.templates.TemplateResponse(
        request,
        "devices.html",
        {"title": parts.config.title, "devices": devices, "unknown": unknown[:30], "recent": recent, "now": parts.clock.now()},
    )


@router.get("/devices/{device_id}", response_class=HTMLResponse, include_in_schema=False)
async def device_page(request: Request, parts: Parts, device_id: str) -> Response:
    devices = [d for d in await run_in_threadpool(parts.ledger.devices) if d["id"] == device_id]
    rejections = await run_in_threadpool(parts.ledger.rejections, device_id, 100)
    if not devices and not rejections:
        return HTMLResponse(f"<p>{text('s.unknown_device', page_language(request))}</p>", status_code=404)
    recent = await run_in_threadpool(parts.ledger.recent_punches, device_id, 50)
    outside = await run_in_threadpool(parts.ledger.outside_roster, device_id, 100)
    return parts.templates.TemplateResponse(
        request,
        "device.html",
        {
            "title": parts.config.title,
            "device_id": device_id,
            "device": devices[0] if devices else None,
            "rejections": rejections,
            "recent": recent,
            "outside": outside,
        },
    )
