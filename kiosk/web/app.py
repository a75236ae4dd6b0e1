"""The web app factories: the kiosk screen (127.0.0.1) and the maintenance page (LAN, TLS).

Both are built from a :class:`WebContext` holding the configuration, a connection factory,
the live services, the clock and the injectable seams (logs, exporter, USB, host facts, server
probe, doctor), as Frigate's ``create_fastapi_app`` takes its collaborators. Tests build them
against a temporary database with a :class:`~core.clock.FakeClock`.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from kiosk.web.context import STATIC_DIR, WebContext, templates
from kiosk.web.forms import install_form_errors
from kiosk.web.maintenance import access, dashboard, employees, system, work
from kiosk.web.pages import attach
from kiosk.web.screen import routes as screen
from kiosk.web.security import install_security

log = logging.getLogger(__name__)


def _base_app(title: str) -> FastAPI:
    app = FastAPI(
        title=title,
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema is at /openapi.json
        redoc_url=None,
        openapi_url=None,  # served below as an ordinary route, so the login guard covers it
        version="1",
    )
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    return app


def create_screen_app(ctx: WebContext) -> FastAPI:
    """The kiosk screen for the unit's own Chromium: served on 127.0.0.1 only, no login."""

    app = _base_app("Presensi Kiosk — layar")
    screen.prepare(app, ctx)
    attach(app, ctx, templates())
    app.include_router(screen.router)
    app.router.lifespan_context = screen.lifespan
    return app


def create_maintenance_app(ctx: WebContext) -> FastAPI:
    """The maintenance page for technicians and Admin PD: login required everywhere but /healthz."""

    app = _base_app("Presensi Kiosk — pemeliharaan")
    tpl = templates()
    install_security(app, ctx, tls=True)  # first: routes added after it carry the login guard

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    install_form_errors(app, tpl)
    attach(app, ctx, tpl)
    app.state.dashboard_cache = dashboard.DashboardCache()
    app.include_router(access.router)
    app.include_router(dashboard.router)
    app.state.face_prompt = employees.FacePrompt()
    ctx.hub.subscribe(app.state.face_prompt.follow)
    app.include_router(employees.router)
    app.include_router(work.router)
    app.include_router(system.router)
    return app
