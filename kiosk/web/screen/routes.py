"""The kiosk screen: the page, its live channel (Server-Sent Events), the camera preview
(MJPEG) and its status. Served on 127.0.0.1 for the unit's own Chromium; any other client
is refused, so the setup code it shows never leaves the unit's screen."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from core import i18n
from core.clock import ClockState, local_time
from core.health import Health, read_all
from core.security_headers import SecurityHeaders
from core.store.accounts import Accounts
from kiosk.web.pages import Ctx, page_templates
from kiosk.web.ports import Decision, Message, Prompt
from kiosk.web.screen.frames import render_jpeg
from kiosk.web.screen.live import PunchWatcher
from kiosk.web.screen.texts import decision_message, prompt_message
from kiosk.web.status import active_event, sync_state

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)

LOOPBACK = {"127.0.0.1", "::1", "localhost", "testclient"}
STATUS_EVERY_S = 2.0
PREVIEW_FPS = 10.0
SCREEN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}"
)


def screen_csp(frame_ancestors: list[str]) -> str:
    """The screen's policy; no page may frame it unless ``web.screen_frame_ancestors`` names it."""
    return SCREEN_CSP.format(ancestors=" ".join(frame_ancestors) if frame_ancestors else "'none'")


class LoopbackOnly:
    """Refuses any client that is not the unit itself, and any Host that is not loopback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client") or ("", 0)
            host = dict(scope.get("headers") or []).get(b"host", b"").decode().rsplit(":", 1)[0].strip("[]")
            if client[0] not in LOOPBACK or host not in LOOPBACK:
                response = Response("only the kiosk itself may open this page", status_code=403, media_type="text/plain")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def clock_status(ctx: WebContext) -> dict[str, Any]:
    """The clock's state for the screen; with the unit's TimeKeeper also why, and whether the
    clock is certainly wrong (earlier than an event pack's issue time or the server's clock)."""
    report = getattr(ctx.clock_state, "report", None)
    if not callable(report):
        return {"clock_state": ClockState(ctx.clock_state.state()).value, "clock_wrong": False, "clock_detail": ""}
    found = report()
    return {
        "clock_state": ClockState(found.state).value,
        "clock_wrong": bool(found.certainly_wrong),
        "clock_detail": str(found.detail),
    }


def camera_status(ctx: WebContext, conn: Any, now: Any) -> str:
    """'ok' while the camera can be used (or is starting), 'missing' when this unit has none, it
    is off in the configuration, or its last health report is a failure: the screen then says
    so and points to the card and the finger instead of showing a black box."""
    if ctx.frames is None or not ctx.config.face.enabled:
        return "missing"
    camera = next((p for p in read_all(conn, now) if p.part == "camera"), None)
    if camera is not None and camera.status == Health.FAIL.value and not camera.stale:
        return "missing"
    return "ok"


def status_payload(ctx: WebContext) -> dict[str, Any]:
    conn = ctx.db.get()
    now = ctx.clock.now()
    sync = sync_state(conn, now)
    event = active_event(conn)
    code = Accounts(conn, ctx.clock).setup_code()
    return {
        "type": "status",
        "unit": ctx.config.unit.name,
        "now_ms": int(now.timestamp() * 1000),
        "local": local_time(now, ctx.zone).strftime("%H:%M:%S"),
        "zone": ctx.zone,
        "zone_abbr": ctx.zone_abbr,
        **clock_status(ctx),
        "online": sync.online,
        "unsent": sync.unsent,
        "camera": camera_status(ctx, conn, now),
        "event": None if event is None else {"title": event.title, "kind": event.kind, "location": event.location},
        "setup_code": code,
        "maintenance_url": ctx.maintenance_url,
        "tls_fingerprint": ctx.tls_fingerprint,
        "device_id": ctx.device_id,
    }


def message_json(ctx: WebContext, message: Message) -> dict[str, Any]:
    if isinstance(message, Decision):
        return decision_message(message, ctx.zone, ctx.clock.now())
    if isinstance(message, Prompt):
        return prompt_message(message)
    raise TypeError(type(message))


def prepare(app: FastAPI, ctx: WebContext) -> None:
    """The screen's headers, the loopback check and the punch watcher (started with the app)."""
    ancestors = ctx.config.web.screen_frame_ancestors
    app.add_middleware(SecurityHeaders, tls=False, csp=screen_csp(ancestors), frameable=bool(ancestors))
    app.add_middleware(LoopbackOnly)
    app.state.watcher = PunchWatcher(ctx.db.new, ctx.hub)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    ctx: WebContext = app.state.ctx
    watcher: PunchWatcher = app.state.watcher
    if ctx.watch_punches:
        watcher.start()
    try:
        yield
    finally:
        watcher.stop()


router = APIRouter()


@router.get("/")
def screen(request: Request, ctx: Ctx, lang: str = "") -> Response:
    language = i18n.language(lang, i18n.language(ctx.config.unit.language))
    texts = {code: i18n.for_client(code, ["screen."])["t"] for code in i18n.LANGS}
    return page_templates(request).TemplateResponse(
        request, "screen.html", {"lang": language, "texts": texts, "has_preview": ctx.frames is not None}
    )


@router.get("/healthz")
def healthz() -> dict[str, bool]:
    return {"ok": True}


@router.get("/api/screen/status")
def status(ctx: Ctx) -> JSONResponse:
    return JSONResponse(status_payload(ctx))


@router.get("/live")
async def live(request: Request, ctx: Ctx) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=100)

    def deliver(message: Message) -> None:
        loop.call_soon_threadsafe(_put_nowait, queue, message)

    unsubscribe = ctx.hub.subscribe(deliver)

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"
            payload = await asyncio.to_thread(status_payload, ctx)
            yield f"data: {json.dumps(payload)}\n\n"
            while not ctx.stopping.is_set():
                try:
                    message = await asyncio.wait_for(queue.get(), timeout=STATUS_EVERY_S)
                    yield f"data: {json.dumps(message_json(ctx, message))}\n\n"
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    payload = await asyncio.to_thread(status_payload, ctx)
                    yield f"data: {json.dumps(payload)}\n\n"
        finally:
            unsubscribe()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.get("/preview.jpg")
def preview_jpg(ctx: Ctx) -> Response:
    frame = ctx.frames.latest() if ctx.frames is not None else None
    if frame is None:
        return Response(status_code=204)
    return Response(render_jpeg(frame), media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@router.get("/preview.mjpg")
async def preview_mjpg(request: Request, ctx: Ctx) -> Response:
    if ctx.frames is None:
        return Response("no camera in this process", status_code=404, media_type="text/plain")
    source = ctx.frames
    boundary = "frame"

    async def stream() -> AsyncIterator[bytes]:
        last_seq = -1
        while not ctx.stopping.is_set():
            frame = source.latest()
            if frame is not None and frame.seq != last_seq:
                last_seq = frame.seq
                jpeg = await asyncio.to_thread(render_jpeg, frame)
                yield (
                    f"--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n"
                )
            if await request.is_disconnected():
                break
            await asyncio.sleep(1.0 / PREVIEW_FPS)

    return StreamingResponse(stream(), media_type=f"multipart/x-mixed-replace; boundary={boundary}")


def _put_nowait(queue: asyncio.Queue[Message], message: Message) -> None:
    if queue.full():
        queue.get_nowait()  # a screen that fell behind sees the newest
    queue.put_nowait(message)
