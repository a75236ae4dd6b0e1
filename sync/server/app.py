"""The reference central server as a FastAPI app, built by :func:`create_app` from its parts."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from kiosk import __version__
from kiosk.clock import Clock, shown_time
from kiosk.errors import AuthError
from kiosk.i18n import LANG_COOKIE, detail_text, language, template_globals, text
from kiosk.identity import device_id_for, public_key_from_hex
from sync import protocol
from sync.bundle import MAX_BUNDLE_BYTES, BundleRejected, read_bundle
from sync.server.config import ServerConfig, admin_networks
from sync.server.corrections import CorrectionLedger, CorrectionRejected
from sync.server.daybook import DEFAULT_ZONE, DayBook
from sync.server.events import EventAttendance, add_event_routes
from sync.server.ledger import Device, Ledger, PunchRejected
from sync.server.roster import RosterAdmin
from sync.server.storage import Storage
from sync.signing import SignatureRejected, parse_signature_headers, sign_document, verify_request

log = logging.getLogger(__name__)

PAGES = Path(__file__).parent / "pages"
SERVER_KEY_META = "server_signing_key"


def server_key(storage: Storage) -> Ed25519PrivateKey:
    """The server's roster-signing key, kept in the database so every instance shares it."""
    pem = storage.get_meta(SERVER_KEY_META)
    if pem is None:
        fresh = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        pem = storage.set_meta_if_absent(SERVER_KEY_META, fresh.decode("ascii"))
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def server_public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


# -- wire models, for the OpenAPI description ---------------------------------------------------


class WirePunch(BaseModel):
    """A punch exactly as the unit stored and signed it (see kiosk/store/chain.py)."""

    seq: int = Field(ge=1)
    id: str
    device_id: str
    employee_id: str
    instant: str = Field(description="RFC 3339 UTC with milliseconds, e.g. 2026-11-23T00:42:13.123Z")
    zone: str
    method: str
    kind: str
    status: str
    minutes: int
    event_id: str | None
    liveness_verdict: str | None
    liveness_scores: str = Field(description="canonical JSON object name → decimal string")
    match_distance: str | None
    clock_state: str
    boot_id: str
    mono_ns: int
    prev_hash: str
    hash: str
    signature: str


class UploadRequest(BaseModel):
    """Body of POST /v1/punches (gzip-compressed JSON, Content-Encoding: gzip)."""

    punches: list[WirePunch]


class AckResponse(BaseModel):
    acked_seq: int = Field(description="Every punch up to this sequence number is stored and verified.")
    accepted: int
    duplicates: int
    held: int = Field(description="Verified punches held beyond a gap, not yet accepted.")
    gap: list[int] | None = Field(description="[first, last] missing sequence numbers, when punches are held.")


class ProvisionRequest(BaseModel):
    token: str
    public_key: str = Field(description="Ed25519 public key, raw 32 bytes, hex")
    name: str = ""


class ProvisionResponse(BaseModel):
    device_id: str
    unit_code: str
    server_public_key: str = Field(description="Ed25519 key that signs roster documents, hex")
    server_time: str
    settings: dict[str, Any]


class HealthReport(BaseModel):
    queue_depth: int
    oldest_unsent_age_s: float | None
    clock_offset_s: float | None
    clock_state: str
    versions: dict[str, str]
    disk_free_mb: float | None
    temperature_c: float | None
    roster_version: int
    faults: list[dict[str, Any]]
    parts: list[dict[str, Any]]


class ErrorResponse(BaseModel):
    error: str


class WireAnchor(BaseModel):
    """When the unit learnt the true time: its boot, monotonic clock and the true UTC then."""

    boot_id: str
    mono_ns: int = Field(ge=0)
    true_utc: str = Field(description="RFC 3339 UTC with milliseconds")
    source: str = Field(description="ntp, server or technician")


class WireCorrection(BaseModel):
    """A signed correction of one punch (see docs/sync-protocol.md, Corrections)."""

    v: int = Field(description="1")
    type: str = Field(description="correction")
    device_id: str
    punch_id: str
    seq: int = Field(ge=1)
    punch_hash: str
    recorded_instant: str = Field(description="the punch's own instant, as stored")
    corrected_instant: str = Field(description="anchor.true_utc + (punch.mono_ns - anchor.mono_ns)")
    anchor: WireAnchor
    signature: str = Field(description="hex Ed25519 by the device key over the other fields' canonical JSON")


class CorrectionsUpload(BaseModel):
    """Body of POST /v1/corrections (gzip-compressed JSON, Content-Encoding: gzip)."""

    corrections: list[WireCorrection]


class CorrectionsAckResponse(BaseModel):
    acked: list[str] = Field(description="Punch ids whose correction the server now holds (new or already held).")
    accepted: int
    duplicates: int


REQUEST_MODELS: list[type[BaseModel]] = [WirePunch, UploadRequest, ProvisionRequest, HealthReport, CorrectionsUpload]


def _body_doc(model: str, content_type: str = "application/json") -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {content_type: {"schema": {"$ref": f"#/components/schemas/{model}"}}}}}


@dataclass
class ServerParts:
    storage: Storage
    ledger: Ledger
    roster: RosterAdmin
    key: Ed25519PrivateKey
    days: DayBook


def page_language(request: Request) -> str:
    """The language a person chose on the server's pages (the maintenance page's cookie and
    switch), Bahasa Indonesia unless they chose English."""
    return language(request.cookies.get(LANG_COOKIE))


def page_words(request: Request) -> dict[str, Any]:
    """What every page of the server gets: ``t``, ``word`` and ``lang`` from the catalogue
    (:mod:`kiosk.i18n`), ``when`` for a stored instant in local time, ``here`` for the switch."""
    lang = page_language(request)

    def when(value: object) -> str:
        return shown_time(value if isinstance(value, (str, datetime)) or value is None else str(value), DEFAULT_ZONE)

    def measure(value: object, unit: str) -> str:
        return "—" if value is None or value == "" else f"{value} {unit}"

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")

    def detail(value: str | None) -> str:
        return detail_text(value, lang, when)

    return {**template_globals(lang), "when": when, "measure": measure, "detail": detail, "here": here}


def create_app(  # noqa: PLR0915 - the routes are closures over the parts
    config: ServerConfig, storage: Storage, clock: Clock, *, rng: random.Random | None = None
) -> FastAPI:
    """The app over ``storage`` (schema created if missing). ``rng`` drives fault injection."""
    storage.create_schema()
    parts = ServerParts(
        storage, Ledger(storage, clock), RosterAdmin(storage, clock), server_key(storage), DayBook(storage, clock)
    )
    public_hex = server_public_hex(parts.key)
    faults = config.faults
    fault_rng = rng or random.Random(faults.seed)
    templates = Jinja2Templates(directory=str(PAGES), context_processors=[page_words])
    app = FastAPI(
        title="Presensi central server (protocol v1)",
        version=__version__,
        description="Reference implementation of the Presensi Kiosk sync protocol. See docs/sync-protocol.md.",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.parts = parts
    app.add_middleware(GZipMiddleware, minimum_size=2048)

    if faults.fail_rate > 0:
        log.warning("fault injection is on: %.0f%% of requests fail", faults.fail_rate * 100)

        @app.middleware("http")
        async def inject_faults(request: Request, call_next: Any) -> Response:
            if not request.url.path.startswith("/v1/") or fault_rng.random() >= faults.fail_rate:
                return await call_next(request)  # type: ignore[no-any-return]
            status = fault_rng.choice((500, 503))
            if fault_rng.random() < faults.after_share:
                await call_next(request)  # processed, and the answer is lost
            return JSONResponse({"error": "injected fault"}, status_code=status)

    allowed = admin_networks(config)
    proxies = {ipaddress.ip_address(a) for a in config.trusted_proxies}

    @app.middleware("http")
    async def admin_pages_only_from_admin_networks(request: Request, call_next: Any) -> Response:
        """The units' API (/v1, signed) and /healthz are open; every other page only from
        ``admin_networks`` (issue 22, finding 6: NIPs and punch times to anyone on the port)."""
        path = request.url.path
        if path.startswith("/v1/") or path == "/healthz" or _from_networks(request, allowed, proxies):
            return await call_next(request)  # type: ignore[no-any-return]
        return HTMLResponse(
            "<!doctype html><meta charset=utf-8><title>403</title>"
            "<p>Halaman admin hanya dapat dibuka dari jaringan yang diizinkan (server.admin_networks); "
            "buka dari server ini (SSH tunnel) atau minta admin menambahkan jaringan BKPSDM.</p>"
            "<p>The admin pages open only from the allowed networks (admin_networks).</p>",
            status_code=403,
        )

    def refreshing_days(response: Response) -> Response:
        """After an accepted upload, the attendance days are recomputed once the answer is sent."""
        if response.status_code == 200:
            response.background = BackgroundTask(parts.days.refresh)
        return response

    def remote(request: Request) -> str:
        return request.client.host if request.client else ""

    def refuse(status: int, reason: str) -> JSONResponse:
        return JSONResponse({"error": reason}, status_code=status)

    async def authenticate(request: Request, body: bytes, source: str) -> Device | JSONResponse:
        keyid = "unknown"
        try:
            signed = parse_signature_headers(dict(request.headers))
            keyid = signed.keyid
            device = await run_in_threadpool(parts.ledger.device, keyid)
            if device is None:
                raise SignatureRejected(f"unknown device key {keyid} (provision the unit first)")
            verify_request(
                signed,
                device.public_key,
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                body=body,
                now_s=clock.now().timestamp(),
                window_s=config.signature_window_s,
            )
            fresh = await run_in_threadpool(
                partial(
                    parts.ledger.use_nonce,
                    signed.nonce,
                    keyid,
                    config.signature_window_s,
                    remote=remote(request),
                    clock_offset_s=signed.created - clock.now().timestamp(),
                )
            )
            if not fresh:
                raise SignatureRejected("replayed request (its nonce was already used)")
        except SignatureRejected as exc:
            await run_in_threadpool(parts.ledger.reject, keyid, source, exc.reason, remote(request))
            return refuse(401, exc.reason)
        return device

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post(
        protocol.PROVISION_PATH,
        openapi_extra=_body_doc("ProvisionRequest"),
        responses={200: {"model": ProvisionResponse}, 403: {"model": ErrorResponse}},
        summary="Register a device key with a one-time token (the request is signed by that key)",
    )
    async def provision(request: Request) -> Response:
        body = await request.body()
        try:
            doc = ProvisionRequest.model_validate(protocol.decode_body(body, request.headers.get("content-encoding")))
            key = public_key_from_hex(doc.public_key)
            device_id = device_id_for(bytes.fromhex(doc.public_key))
            signed = parse_signature_headers(dict(request.headers))
            if signed.keyid != device_id:
                raise SignatureRejected("the request is not signed by the key being provisioned")
            verify_request(
                signed,
                key,
                method=request.method,
                path=request.url.path,
                query=request.url.query,
                body=body,
                now_s=clock.now().timestamp(),
                window_s=config.signature_window_s,
            )
            if not await run_in_threadpool(parts.ledger.use_nonce, signed.nonce, device_id, config.signature_window_s):
                raise SignatureRejected("replayed request (its nonce was already used)")
            result = await run_in_threadpool(parts.ledger.provision, doc.token, doc.public_key, doc.name)
        except (ValueError, AuthError) as exc:
            reason = getattr(exc, "reason", str(exc))
            await run_in_threadpool(parts.ledger.reject, "unknown", "provision", str(reason), remote(request))
            return refuse(403, str(reason))
        return JSONResponse(
            {
                **result,
                "server_public_key": public_hex,
                "server_time": clock.now().isoformat(),
                "settings": {"signature_window_s": config.signature_window_s},
            }
        )

    async def signed_list_upload(request: Request, action: str, key: str, ingest: Callable[[str, list[Any]], Any]) -> Response:
        """A signed upload of a list (punches, corrections): authenticated, decoded, ingested;
        a refusal is recorded for the device page and answered 422 with its reason."""
        body = await request.body()
        device = await authenticate(request, body, action)
        if isinstance(device, JSONResponse):
            return device
        try:
            doc = protocol.decode_body(body, request.headers.get("content-encoding"))
            if not isinstance(doc, dict) or not isinstance(doc.get(key), list):
                raise PunchRejected(f"body must be an object with a list '{key}'")
            ack = await run_in_threadpool(ingest, device.id, doc[key])
        except (ValueError, PunchRejected) as exc:
            reason = getattr(exc, "reason", str(exc))
            await run_in_threadpool(parts.ledger.reject, device.id, action, reason, remote(request))
            return refuse(422, reason)
        return JSONResponse(ack.to_json())

    @app.post(
        protocol.PUNCHES_PATH,
        openapi_extra=_body_doc("UploadRequest"),
        responses={200: {"model": AckResponse}, 401: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
        summary="Upload a batch of signed, chained punches; answers with the acknowledged sequence number",
    )
    async def upload(request: Request) -> Response:
        return refreshing_days(
            await signed_list_upload(
                request, "upload", "punches", lambda device_id, items: parts.ledger.ingest(device_id, items, "upload")
            )
        )

    @app.post(
        protocol.BUNDLES_PATH,
        openapi_extra=_body_doc("BundleZip", "application/zip"),
        responses={200: {"model": AckResponse}, 422: {"model": ErrorResponse}},
        summary="Import a flash-disk bundle (self-signed by the device; verified like an upload)",
    )
    async def import_bundle(request: Request) -> Response:
        # Read at most MAX_BUNDLE_BYTES (the endpoint needs no login: the bundle's own signature
        # authenticates it, so its size is bounded before anything else is read or expanded).
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BUNDLE_BYTES:
            return refuse(413, f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_BUNDLE_BYTES:
                return refuse(413, f"a bundle is at most {MAX_BUNDLE_BYTES} bytes")
        body = bytes(received)
        try:
            result = await run_in_threadpool(import_bundle_bytes, parts.ledger, body)
        except BundleRejected as exc:
            await run_in_threadpool(parts.ledger.reject, exc.device_id, "bundle", exc.reason, remote(request))
            return refuse(422, exc.reason)
        return refreshing_days(JSONResponse(result.to_json()))

    @app.get(
        protocol.ROSTER_PATH,
        responses={200: {"description": "roster document (JSON), signed in the X-Presensi-Roster-Signature header"}},
        summary="Roster changes since a version, signed by the server key",
    )
    async def roster(request: Request, since: int = 0, embedder: str | None = None) -> Response:
        device = await authenticate(request, b"", "roster")
        if isinstance(device, JSONResponse):
            return device
        if embedder is not None and not protocol.EMBEDDER_ID.fullmatch(embedder):
            return refuse(422, "embedder must be a model file's SHA-256 (64 lower-case hex digits)")
        doc = await run_in_threadpool(functools.partial(parts.roster.document, since, device_id=device.id, embedder=embedder))
        doc["device_id"] = device.id
        body = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")
        return Response(
            body, media_type="application/json", headers={protocol.ROSTER_SIGNATURE_HEADER: sign_document(parts.key, body)}
        )

    @app.post(
        protocol.HEALTH_PATH,
        openapi_extra=_body_doc("HealthReport"),
        responses={204: {"description": "recorded"}, 401: {"model": ErrorResponse}},
        summary="Heartbeat: queue, clock offset, versions, disk, temperature and faults",
    )
    async def health(request: Request) -> Response:
        body = await request.body()
        device = await authenticate(request, body, "health")
        if isinstance(device, JSONResponse):
            return device
        try:
            report = HealthReport.model_validate(protocol.decode_body(body, request.headers.get("content-encoding")))
        except ValueError as exc:
            await run_in_threadpool(parts.ledger.reject, device.id, "health", f"malformed heartbeat: {exc}", remote(request))
            return refuse(422, "malformed heartbeat")
        await run_in_threadpool(parts.ledger.record_health, device.id, report.model_dump(), remote(request))
        return Response(status_code=204)

    corrections = CorrectionLedger(parts.ledger)

    @app.post(
        protocol.CORRECTIONS_PATH,
        openapi_extra=_body_doc("CorrectionsUpload"),
        responses={200: {"model": CorrectionsAckResponse}, 401: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
        summary="Upload signed corrections of punches the server holds; the punches themselves are never changed",
    )
    async def upload_corrections(request: Request) -> Response:
        return refreshing_days(await signed_list_upload(request, "corrections", "corrections", corrections.ingest))

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def devices_page(request: Request) -> Response:
        devices = await run_in_threadpool(parts.ledger.devices)
        unknown = [r for r in await run_in_threadpool(parts.ledger.rejections, None, 100) if not r["known"]]
        recent = await run_in_threadpool(parts.ledger.recent_punches, None, 30)
        return templates.TemplateResponse(
            request,
            "devices.html",
            {"title": config.title, "devices": devices, "unknown": unknown[:30], "recent": recent, "now": clock.now()},
        )

    @app.get("/devices/{device_id}", response_class=HTMLResponse, include_in_schema=False)
    async def device_page(request: Request, device_id: str) -> Response:
        devices = [d for d in await run_in_threadpool(parts.ledger.devices) if d["id"] == device_id]
        rejections = await run_in_threadpool(parts.ledger.rejections, device_id, 100)
        if not devices and not rejections:
            return HTMLResponse(f"<p>{text('s.unknown_device', page_language(request))}</p>", status_code=404)
        recent = await run_in_threadpool(parts.ledger.recent_punches, device_id, 50)
        outside = await run_in_threadpool(parts.ledger.outside_roster, device_id, 100)
        return templates.TemplateResponse(
            request,
            "device.html",
            {
                "title": config.title,
                "device_id": device_id,
                "device": devices[0] if devices else None,
                "rejections": rejections,
                "recent": recent,
                "outside": outside,
            },
        )

    add_event_routes(app, EventAttendance(storage, clock), templates, config.title)
    add_backoffice(app, config, parts, clock, templates)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        from pydantic.json_schema import models_json_schema

        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        _, defs = models_json_schema([(m, "validation") for m in REQUEST_MODELS], ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(defs.get("$defs", {}))
        components["BundleZip"] = {"type": "string", "format": "binary", "description": "a bundle written by presensi export"}
        schema["components"]["securitySchemes"] = {
            "httpMessageSignature": {
                "type": "apiKey",
                "in": "header",
                "name": "Signature",
                "description": "RFC 9421-style signature by the device key; see docs/sync-protocol.md",
            }
        }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def add_backoffice(app: FastAPI, config: ServerConfig, parts: ServerParts, clock: Clock, templates: Jinja2Templates) -> None:
    """The back office's pages (``/kantor``) over the server's parts."""
    from kiosk.clock import zone_abbreviation
    from kiosk.web.security import SecurityHeaders
    from sync.server.backoffice import BackOffice, add_backoffice_routes
    from sync.server.keterangan import KeteranganBook
    from sync.server.officers import Officers
    from sync.server.recap import Recaps

    templates.env.globals["zone_label"] = zone_abbreviation
    # the maintenance page's headers; the server's pages carry their style inline and no script
    csp = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )
    app.add_middleware(SecurityHeaders, tls=not config.allow_plain_http, csp=csp)
    back = BackOffice(
        officers=Officers(parts.storage, clock),
        days=parts.days,
        keterangan=KeteranganBook(parts.storage, clock, parts.days),
        recaps=Recaps(parts.storage, clock, parts.days),
        clock=clock,
        templates=templates,
        title=config.title,
        secure_cookie=not config.allow_plain_http,
    )
    add_backoffice_routes(app, back, open_pages=config.open_pages)


def import_bundle_bytes(ledger: Ledger, data: bytes) -> protocol.Ack:
    """Verify a bundle and ingest its punches (the command and the endpoint share this)."""

    def key_for(device_id: str) -> Any:
        device = ledger.device(device_id)
        return device.public_key if device else None

    opened = read_bundle(data, key_for)
    try:
        ack = ledger.ingest(opened.device_id, opened.punches, "bundle")
    except PunchRejected as exc:
        raise BundleRejected(exc.reason, opened.device_id) from exc
    if opened.corrections:
        _import_corrections(ledger, opened.device_id, opened.corrections)
    return ack


def _import_corrections(ledger: Ledger, device_id: str, corrections: list[dict[str, Any]]) -> None:
    """Store a bundle's corrections of punches this server holds (those of punches it lacks
    wait for the unit's next delivery). A refused set is recorded on the device page; the
    bundle's punches, already stored, stay."""
    held = ledger.held_seqs(device_id, [int(c["seq"]) for c in corrections])
    mine = [c for c in corrections if int(c["seq"]) in held]
    if not mine:
        return
    try:
        result = CorrectionLedger(ledger).ingest(device_id, mine)
    except CorrectionRejected as exc:
        ledger.reject(device_id, "bundle", f"corrections not stored: {exc.reason}", "bundle")
        return
    log.info("bundle of %s: %d corrections stored, %d already held", device_id, result.accepted, result.duplicates)


def _from_networks(request: Request, networks: list[Any], proxies: set[Any]) -> bool:
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a Unix socket or a test client without an address: not a known network
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # an IPv4 client of a dual-stack socket (host = "::")
    if address in proxies:
        return False  # through a proxy that did not say for whom (no X-Forwarded-For): unknown
    return any(address in network for network in networks)
