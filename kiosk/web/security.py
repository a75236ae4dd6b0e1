"""Login, roles, CSRF and security headers for the maintenance page.

One dependency (:func:`guard`) sits in front of every route of the app, so a route added later
is protected without remembering to: it lets through only ``/healthz`` and the login, setup and
language pages, requires a live session everywhere else, and checks the CSRF token on every
state-changing request (the session's token; before login, a token paired with a cookie).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.clock import shown_time, zone_abbreviation
from kiosk.i18n import CODES, LANG_COOKIE, detail_text, for_client, language, template_globals, text, word, words
from kiosk.web.auth import Role, Session, constant_time_equal

if TYPE_CHECKING:
    from kiosk.web.app import WebContext

log = logging.getLogger(__name__)

SESSION_COOKIE = "presensi_session"
PRE_CSRF_COOKIE = "presensi_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Paths reachable without a session (exact), and prefixes.
PUBLIC_PATHS = {"/healthz", "/login", "/setup"}
PUBLIC_PREFIXES = ("/static/", "/lang/")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class SecurityHeaders:
    """Pure ASGI middleware adding the security headers to every response."""

    def __init__(self, app: ASGIApp, *, tls: bool, csp: str = CSP, frameable: bool = False) -> None:
        """``frameable``: the CSP's frame-ancestors names who may frame the pages (no X-Frame-Options)."""
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            *([] if frameable else [(b"x-frame-options", b"DENY")]),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), usb=()"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if tls:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                if not path.startswith("/static/") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class NeedLogin(Exception):
    def __init__(self, expired: bool) -> None:
        self.expired = expired


class Forbidden(Exception):
    def __init__(self, message: str, role: str = "") -> None:
        self.message = message
        self.role = role


class CsrfRejected(Exception):
    pass


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def safe_next(value: str | None) -> str:
    """A local path to go back to after login; anything else becomes '/'."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 300:
        return "/"
    return value


async def _submitted_token(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def make_guard(ctx: WebContext) -> Callable[[Request], Awaitable[None]]:
    async def guard(request: Request) -> None:
        request.state.lang = lang_of(request, ctx)
        request.state.zone = ctx.zone
        request.state.session = None
        path = request.url.path
        unsafe = request.method in UNSAFE_METHODS
        if is_public(path):
            if unsafe and not constant_time_equal(await _submitted_token(request), request.cookies.get(PRE_CSRF_COOKIE)):
                log.warning("form without its CSRF token refused on %s", path)
                raise CsrfRejected()
            return
        token = request.cookies.get(SESSION_COOKIE)
        session = ctx.accounts().session(token)
        if session is None:
            raise NeedLogin(expired=bool(token))
        request.state.session = session
        if unsafe and not constant_time_equal(await _submitted_token(request), session.csrf_token):
            log.warning("request without its CSRF token refused on %s for %s", path, session.username)
            raise CsrfRejected()

    return guard


def lang_of(request: Request, ctx: WebContext) -> str:
    return language(request.cookies.get(LANG_COOKIE), language(ctx.config.unit.language))


def require(role: Role) -> Any:
    """A route dependency: the session must hold ``role``."""

    def check(request: Request) -> Session:
        session: Session | None = request.state.session
        if session is None:
            raise NeedLogin(expired=False)
        if role not in session.roles:
            raise Forbidden(f"this page needs the {role.value} role", role.value)
        return session

    return Depends(check)


def install_security(app: FastAPI, ctx: WebContext, *, tls: bool) -> None:
    app.add_middleware(SecurityHeaders, tls=tls)
    app.router.dependencies.append(Depends(make_guard(ctx)))
    tpl = Jinja2Templates(directory=str(_templates_dir()))

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")

    @app.exception_handler(NeedLogin)
    async def _need_login(request: Request, exc: NeedLogin) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "login required"}, status_code=401)
        target = f"/login?next={quote(safe_next(request.url.path))}"
        if exc.expired:
            target += "&expired=1"
        response = RedirectResponse(target, status_code=303)
        if exc.expired:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": exc.message}, status_code=403)
        lang = getattr(request.state, "lang", "id")
        say = text("page.forbidden_role", lang, role=word("role", exc.role, lang)) if exc.role else exc.message
        return tpl.TemplateResponse(
            request, "error.html", page_vars(request, title=text("page.forbidden", lang), message=say), status_code=403
        )

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        if wants_json(request):
            return JSONResponse({"detail": "missing or wrong CSRF token; reload the page"}, status_code=403)
        lang = getattr(request.state, "lang", "id")
        return HTMLResponse(
            f"<!doctype html><html lang='{lang}'><title>403</title><p>{text('page.csrf_expired', lang)}</p>", status_code=403
        )


def _templates_dir() -> Any:
    from kiosk.web.app import TEMPLATES_DIR

    return TEMPLATES_DIR


#: The code groups the pages' scripts put in words (maint.js, maint-fingers.js).
CLIENT_CODES = ("part", "health", "clock", "metric", "enrol_state")


def say(request: Request, key: str, /, **values: object) -> str:
    """A catalogue text in the request's language (for messages made in Python)."""
    return text(key, getattr(request.state, "lang", "id"), **values)


def page_vars(request: Request, **extra: Any) -> dict[str, Any]:
    """What every maintenance template gets: session, CSRF token, the language with ``t``, ``word``
    and ``words`` from the catalogue (:mod:`kiosk.i18n`), and ``when`` for local times."""
    lang = getattr(request.state, "lang", "id")
    session: Session | None = getattr(request.state, "session", None)

    zone = getattr(request.state, "zone", "Asia/Jakarta")

    def when(value: object) -> str:
        """A stored time as the unit's local time, one format (kiosk.clock.shown_time)."""
        return shown_time(value if isinstance(value, (str, datetime)) or value is None else str(value), zone)

    def detail_value(key: str, value: object) -> str:
        """An audit detail's value in words: roles and states by name, yes/no, local times."""
        if key == "roles":
            return words("role", [r for r in str(value).split(",") if r], lang)
        if key == "state":
            return word("enrol_state", value, lang)
        if key in ("first", "part"):
            return word("part", value, lang)
        if key == "kind":  # a fault report's kind, or a punch's
            return word("fault" if str(value) in CODES["fault"] else "kind", value, lang)
        if isinstance(value, bool) or value in ("True", "False"):
            return text("page.yes" if value in (True, "True") else "page.no", lang)
        if key in ("to", "before", "at"):
            return when(value)
        return "—" if value is None else str(value)

    return {
        "said": lambda said: detail_text(said, lang, when),
        "client_texts": for_client(lang, ["js."], CLIENT_CODES),
        "detail_value": detail_value,
        "when": when,
        "zone": zone,
        "zone_abbr": zone_abbreviation(zone),
        "session": session,
        "csrf": session.csrf_token if session else extra.pop("pre_csrf", ""),
        **template_globals(lang),
        "is_admin": bool(session and Role.ADMIN in session.roles),
        "is_tech": bool(session and Role.TECHNICIAN in session.roles),
        **extra,
    }


#: Route dependencies: the session must hold the role (module-level, so routes share them).
ADMIN_ONLY: Any = require(Role.ADMIN)
TECH_ONLY: Any = require(Role.TECHNICIAN)
