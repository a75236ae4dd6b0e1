"""The reference central server as a FastAPI app, built by :func:`create_app` from its parts."""

from __future__ import annotations

import html
import ipaddress
import logging
import random
from functools import partial
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.middleware.gzip import GZipMiddleware

from core import __version__
from core.clock import Clock, zone_abbreviation
from core.i18n import text
from core.security_headers import SecurityHeaders
from sync.server import api, device_pages, event_pages
from sync.server.api import REQUEST_MODELS
from sync.server.backoffice import BackOffice, add_backoffice_routes
from sync.server.config import ServerConfig, admin_networks
from sync.server.daybook import DayBook
from sync.server.keterangan import KeteranganBook
from sync.server.ledger import Ledger
from sync.server.officers import Officers
from sync.server.page_words import page_language, page_words
from sync.server.parts import ServerParts
from sync.server.recap import Recaps
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage

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


def create_app(config: ServerConfig, storage: Storage, clock: Clock, *, rng: random.Random | None = None) -> FastAPI:
    """The app over ``storage`` (schema created if missing). ``rng`` drives fault injection."""
    storage.create_schema()
    key = server_key(storage)
    templates = Jinja2Templates(directory=str(PAGES), context_processors=[page_words])
    parts = ServerParts(
        storage,
        Ledger(storage, clock),
        RosterAdmin(storage, clock),
        key,
        DayBook(storage, clock),
        config=config,
        clock=clock,
        templates=templates,
        public_hex=server_public_hex(key),
    )
    app = FastAPI(
        title="Presensi central server (protocol v1)",
        version=__version__,
        description="Reference implementation of the Presensi Kiosk sync protocol. See docs/sync-protocol.md.",
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.parts = parts
    add_middleware(app, config, rng)
    app.include_router(api.router)
    app.include_router(device_pages.router)
    app.include_router(event_pages.router)
    add_backoffice(app, config, parts, clock, templates)
    app.openapi = partial(server_openapi, app)  # type: ignore[method-assign]
    return app


def add_middleware(app: FastAPI, config: ServerConfig, rng: random.Random | None) -> None:
    """Compression, the injected faults (tests) and the admin pages' networks, in this order."""
    faults = config.faults
    fault_rng = rng or random.Random(faults.seed)
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
        lang = page_language(request)
        return HTMLResponse(
            f'<!doctype html><html lang="{lang}"><meta charset=utf-8><title>403</title>'
            f"<p>{html.escape(text('s.admin_networks_only', lang))}</p>",
            status_code=403,
        )


def server_openapi(app: FastAPI) -> dict[str, Any]:
    """The schema with the request bodies the units send (the routes read them themselves) and
    the signature scheme."""
    if app.openapi_schema:
        return app.openapi_schema
    # late: pydantic loads only when this runs
    # late: pydantic loads only when this runs
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


def add_backoffice(app: FastAPI, config: ServerConfig, parts: ServerParts, clock: Clock, templates: Jinja2Templates) -> None:
    """The back office's pages (``/kantor``) over the server's parts."""

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
