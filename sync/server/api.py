"""The units' API (protocol v1): provisioning, signed uploads of punches and corrections,
flash-disk bundles, the signed roster and the heartbeat; its wire models describe it in OpenAPI."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from core import wire as protocol
from core.errors import AuthError
from core.identity import device_id_for, public_key_from_hex
from core.signing import SignatureRejected, parse_signature_headers, sign_document, verify_request
from sync.bundle import MAX_BUNDLE_BYTES, BundleRejected, read_bundle
from sync.server.corrections import CorrectionLedger, CorrectionRejected
from sync.server.ledger import Device, Ledger, PunchRejected
from sync.server.parts import Parts, ServerParts

log = logging.getLogger(__name__)

# -- wire models, for the OpenAPI description ---------------------------------------------------


class WirePunch(BaseModel):
    """A punch exactly as the unit stored and signed it (see core/store/chain.py)."""

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


router = APIRouter()


def refreshing_days(parts: ServerParts, response: Response) -> Response:
    """After an accepted upload, the attendance days are recomputed once the answer is sent."""
    if response.status_code == 200:
        response.background = BackgroundTask(parts.days.refresh)
    return response


def remote(request: Request) -> str:
    return request.client.host if request.client else ""


def refuse(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def authenticate(parts: ServerParts, request: Request, body: bytes, source: str) -> Device | JSONResponse:
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
            now_s=parts.clock.now().timestamp(),
            window_s=parts.config.signature_window_s,
        )
        fresh = await run_in_threadpool(
            partial(
                parts.ledger.use_nonce,
                signed.nonce,
                keyid,
                parts.config.signature_window_s,
                remote=remote(request),
                clock_offset_s=signed.created - parts.clock.now().timestamp(),
            )
        )
        if not fresh:
            raise SignatureRejected("replayed request (its nonce was already used)")
    except SignatureRejected as exc:
        await run_in_threadpool(parts.ledger.reject, keyid, source, exc.reason, remote(request))
        return refuse(401, exc.reason)
    return device


@router.get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.post(
    protocol.PROVISION_PATH,
    openapi_extra=_body_doc("ProvisionRequest"),
    responses={200: {"model": ProvisionResponse}, 403: {"model": ErrorResponse}},
    summary="Register a device key with a one-time token (the request is signed by that key)",
)
async def provision(request: Request, parts: Parts) -> Response:
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
            now_s=parts.clock.now().timestamp(),
            window_s=parts.config.signature_window_s,
        )
        if not await run_in_threadpool(parts.ledger.use_nonce, signed.nonce, device_id, parts.config.signature_window_s):
            raise SignatureRejected("replayed request (its nonce was already used)")
        result = await run_in_threadpool(parts.ledger.provision, doc.token, doc.public_key, doc.name)
    except (ValueError, AuthError) as exc:
        reason = getattr(exc, "reason", str(exc))
        await run_in_threadpool(parts.ledger.reject, "unknown", "provision", str(reason), remote(request))
        return refuse(403, str(reason))
    return JSONResponse(
        {
            **result,
            "server_public_key": parts.public_hex,
            "server_time": parts.clock.now().isoformat(),
            "settings": {"signature_window_s": parts.config.signature_window_s},
        }
    )


async def signed_list_upload(
    parts: ServerParts, request: Request, action: str, key: str, ingest: Callable[[str, list[Any]], Any]
) -> Response:
    """A signed upload of a list (punches, corrections): authenticated, decoded, ingested;
    a refusal is recorded for the device page and answered 422 with its reason."""
    body = await request.body()
    device = await authenticate(parts, request, body, action)
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


@router.post(
    protocol.PUNCHES_PATH,
    openapi_extra=_body_doc("UploadRequest"),
    responses={200: {"model": AckResponse}, 401: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="Upload a batch of signed, chained punches; answers with the acknowledged sequence number",
)
async def upload(request: Request, parts: Parts) -> Response:
    return refreshing_days(
        parts,
        await signed_list_upload(
            parts, request, "upload", "punches", lambda device_id, items: parts.ledger.ingest(device_id, items, "upload")
        ),
    )


@router.post(
    protocol.BUNDLES_PATH,
    openapi_extra=_body_doc("BundleZip", "application/zip"),
    responses={200: {"model": AckResponse}, 422: {"model": ErrorResponse}},
    summary="Import a flash-disk bundle (self-signed by the device; verified like an upload)",
)
async def import_bundle(request: Request, parts: Parts) -> Response:
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
    return refreshing_days(parts, JSONResponse(result.to_json()))


@router.get(
    protocol.ROSTER_PATH,
    responses={200: {"description": "roster document (JSON), signed in the X-Presensi-Roster-Signature header"}},
    summary="Roster changes since a version, signed by the server key",
)
async def roster(request: Request, parts: Parts, since: int = 0, embedder: str | None = None) -> Response:
    device = await authenticate(parts, request, b"", "roster")
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


@router.post(
    protocol.HEALTH_PATH,
    openapi_extra=_body_doc("HealthReport"),
    responses={204: {"description": "recorded"}, 401: {"model": ErrorResponse}},
    summary="Heartbeat: queue, clock offset, versions, disk, temperature and faults",
)
async def health(request: Request, parts: Parts) -> Response:
    body = await request.body()
    device = await authenticate(parts, request, body, "health")
    if isinstance(device, JSONResponse):
        return device
    try:
        report = HealthReport.model_validate(protocol.decode_body(body, request.headers.get("content-encoding")))
    except ValueError as exc:
        await run_in_threadpool(parts.ledger.reject, device.id, "health", f"malformed heartbeat: {exc}", remote(request))
        return refuse(422, "malformed heartbeat")
    await run_in_threadpool(parts.ledger.record_health, device.id, report.model_dump(), remote(request))
    return Response(status_code=204)


@router.post(
    protocol.CORRECTIONS_PATH,
    openapi_extra=_body_doc("CorrectionsUpload"),
    responses={200: {"model": CorrectionsAckResponse}, 401: {"model": ErrorResponse}, 422: {"model": ErrorResponse}},
    summary="Upload signed corrections of punches the server holds; the punches themselves are never changed",
)
async def upload_corrections(request: Request, parts: Parts) -> Response:
    return refreshing_days(
        parts, await signed_list_upload(parts, request, "corrections", "corrections", parts.corrections.ingest)
    )


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
