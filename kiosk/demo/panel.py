"""The demo's control panel: the kiosk screen in a frame and, beside it, buttons that tap a
simulated card or put a simulated finger on the module, as a person at the kiosk would.

A tiny FastAPI app on 127.0.0.1 only. Its POST routes need the header ``X-Demo-Panel: 1``, which
a page of another origin cannot send without a preflight this app never answers, so a web page
in the same browser cannot press the buttons.
"""

from __future__ import annotations

import logging
from importlib import resources
from typing import Any, Protocol

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from core.runtime import Runtime
from core.schedule.events import EventPack
from core.store.punch_views import last_punch_seq, newest_punches
from kiosk.demo.people import DemoPerson
from kiosk.unit import KioskUnit

log = logging.getLogger(__name__)


class DemoSession(Protocol):
    """What the panel needs of the demo (:class:`kiosk.demo.session.DemoSession`, which builds it)."""

    runtime: Runtime | None
    unit: KioskUnit | None
    people: list[DemoPerson]
    pack: EventPack | None

    @property
    def screen_url(self) -> str: ...
    @property
    def maintenance_url(self) -> str: ...
    @property
    def device_url(self) -> str: ...
    def server_device(self) -> dict[str, Any] | None: ...
    def tap_card(self, employee_id: str | None) -> str: ...
    def place_finger(self, employee_id: str | None, *, timeout: float = 10.0) -> bool: ...


class Press(BaseModel):
    """A button: whose card or finger (``employee_id``; none: an unknown one)."""

    model_config = ConfigDict(extra="forbid")
    employee_id: str | None = None


def _check(header: str | None) -> None:
    if header != "1":
        raise HTTPException(status_code=403, detail="missing X-Demo-Panel header")


def panel_state(session: DemoSession) -> dict[str, Any]:
    """What the panel shows: addresses, people, the last punches and the server's view. Read-only."""
    assert session.runtime is not None and session.unit is not None
    conn = session.runtime.connect()
    try:
        rows = newest_punches(conn, limit=12)
        last_seq = last_punch_seq(conn)
    finally:
        conn.close()
    device = session.server_device()
    return {
        "screen_url": session.screen_url,
        "maintenance_url": session.maintenance_url,
        "device_url": session.device_url,
        "setup_code": session.unit.web.setup_code if session.unit.web else None,
        "liveness": "skipped (demo)",
        "event": session.pack.title if session.pack else None,
        "people": [
            {"id": p.employee_id, "name": p.name, "by_face": p.by_face, "unit": p.unit, "card": p.card_uid}
            for p in session.people
        ],
        "punches": [dict(r) for r in rows],
        "last_seq": last_seq,
        "server_acked_seq": int(device["acked_seq"]) if device else 0,
    }


def create_panel_app(session: DemoSession) -> FastAPI:
    app = FastAPI(title="Presensi demo panel", docs_url=None, redoc_url=None, openapi_url=None)
    page = (resources.files("kiosk.demo") / "panel.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse)
    def index() -> HTMLResponse:
        return HTMLResponse(page.replace("{{SCREEN_URL}}", session.screen_url), headers={"Cache-Control": "no-store"})

    @app.get("/api/state")
    def state() -> dict[str, Any]:
        return panel_state(session)

    @app.post("/api/card")
    def card(press: Press, x_demo_panel: str | None = Header(None)) -> dict[str, Any]:
        _check(x_demo_panel)
        try:
            uid = session.tap_card(press.employee_id)
        except KeyError as exc:
            raise HTTPException(status_code=404, detail="no such demo person") from exc
        return {"tapped": uid}

    @app.post("/api/finger")
    def finger(press: Press, x_demo_panel: str | None = Header(None)) -> dict[str, Any]:
        _check(x_demo_panel)
        try:
            answered = session.place_finger(press.employee_id)
        except KeyError as exc:
            raise HTTPException(status_code=404, detail="no such demo person") from exc
        return {"answered": answered}

    @app.get("/healthz")
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app
