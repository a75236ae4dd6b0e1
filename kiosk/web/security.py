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

from core.clock import shown_time, zone_abbreviation
from core.credentials import constant_time_equal
from core.i18n import CODES, LANG_COOKIE, detail_text, for_client, language, template_globals, text, word, words
from core.security_headers import SecurityHeaders
from core.store.accounts import Role, Session
from kiosk.web.context import TEMPLATES_DIR

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)

SESSION_COOKIE = "presensi_session"
PRE_CSRF_COOKIE = "presensi_pre"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Paths reachable without a session (exact), and prefixes.
PUBLIC_PATHS = {"/healthz", "/login", "/setup"}
PUBLIC_PREFIXES = ("/static/", "/lang/")


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

    return TEMPLATES_DIR


#: The code groups the pages' scripts put in words (maint.js, maint-fingers.js).
CLIENT_CODES = ("part", "health", "clock", "metric", "enrol_state")


def say(request: Request, key: str, /, **values: object) -> str:
    """A catalogue text in the request's language (for messages made in Python)."""
    return text(key, getattr(request.state, "lang", "id"), **values)


def page_vars(request: Request, **extra: Any) -> dict[str, Any]:
    """What every maintenance template gets: session, CSRF token, the language with ``t``, ``word``
    and ``words`` from the catalogue (:mod:`core.i18n`), and ``when`` for local times."""
    lang = getattr(request.state, "lang", "id")
    session: Session | None = getattr(request.state, "session", None)

    zone = getattr(request.state, "zone", "Asia/Jakarta")

    def when(value: object) -> str:
        """A stored time as the unit's local time, one format (core.clock.shown_time)."""
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
