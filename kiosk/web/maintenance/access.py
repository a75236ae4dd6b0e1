"""Login, first-boot setup, logout, language, accounts and the audit log pages."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from core.credentials import LoginRefused
from core.errors import AuthError
from core.i18n import LANG_COOKIE
from core.store import audit
from core.store.accounts import Role, Session
from core.store.db import ping
from kiosk.web.pages import Ctx, note, render
from kiosk.web.security import ADMIN_ONLY, PRE_CSRF_COOKIE, SESSION_COOKIE, safe_next

if TYPE_CHECKING:
    from kiosk.web.context import WebContext

log = logging.getLogger(__name__)


class HealthzOut(BaseModel):
    ok: bool
    device_id: str


class AuditOut(BaseModel):
    id: int
    at: str
    actor: str
    action: str
    detail: dict[str, str | int | float | bool | None]


def client_addr(request: Request) -> str:
    return request.client.host if request.client else "unknown"


router = APIRouter()


def pre_form(ctx: WebContext, request: Request, name: str, status: int = 200, **extra: object) -> Response:
    token = ctx.accounts().new_csrf_token()
    response = render(request, name, status, pre_csrf=token, **extra)
    response.set_cookie(PRE_CSRF_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")
    return response


@router.get("/healthz", response_model=HealthzOut, tags=["public"])
def healthz(ctx: Ctx) -> HealthzOut:
    """Liveness of the maintenance page (no login)."""
    ping(ctx.db.get())
    return HealthzOut(ok=True, device_id=ctx.device_id)


@router.get("/lang/{code}", include_in_schema=False)
def set_lang(code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in ("id", "en"):
        response.set_cookie(LANG_COOKIE, code, samesite="strict", secure=True, path="/", max_age=3600 * 24 * 365)
    return response


@router.get("/login", include_in_schema=False)
def login_page(request: Request, ctx: Ctx, next: str = "/", expired: int = 0) -> Response:
    if ctx.accounts().count() == 0:
        return RedirectResponse("/setup", status_code=303)
    return pre_form(ctx, request, "login.html", next=safe_next(next), expired=bool(expired), error=None)


@router.post("/login", include_in_schema=False)
def login(
    request: Request,
    ctx: Ctx,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    next: Annotated[str, Form(max_length=300)] = "/",
) -> Response:
    accounts = ctx.accounts()
    addr = client_addr(request)
    try:
        account = accounts.authenticate(username, password, addr)
    except LoginRefused as exc:
        known = accounts.get(username.strip().lower()) is not None
        note(
            ctx,
            username.strip().lower() if known else "(unknown)",
            "login.locked" if exc.retry_after_s else "login.failed",
            addr=addr,
        )
        status = 429 if exc.retry_after_s else 401
        response = pre_form(ctx, request, "login.html", status, next=safe_next(next), expired=False, error=exc.screen_text)
        if exc.retry_after_s:
            response.headers["Retry-After"] = str(int(exc.retry_after_s) + 1)
        return response
    token, _ = accounts.open_session(account)
    note(ctx, account.username, "login", addr=addr)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")
    response.delete_cookie(PRE_CSRF_COOKIE, path="/")
    return response


@router.get("/setup", include_in_schema=False)
def setup_page(request: Request, ctx: Ctx) -> Response:
    if ctx.accounts().count():
        return RedirectResponse("/login", status_code=303)
    return pre_form(ctx, request, "setup.html", error=None)


@router.post("/setup", include_in_schema=False)
def setup(
    request: Request,
    ctx: Ctx,
    *,
    code: Annotated[str, Form(max_length=20)],
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    password2: Annotated[str, Form(max_length=256)],
) -> Response:
    accounts = ctx.accounts()
    if accounts.count():
        return RedirectResponse("/login", status_code=303)
    try:
        if password != password2:
            raise AuthError("passwords differ", screen_text="Kedua kata sandi tidak sama")
        account = accounts.create_first(code, username, password, client_addr(request))
    except AuthError as exc:
        note(ctx, "(setup)", "setup.failed", addr=client_addr(request))
        return pre_form(ctx, request, "setup.html", 400, error=exc.screen_text, code=code, username=username)
    note(ctx, account.username, "setup.first_account", roles="technician,admin", addr=client_addr(request))
    token, _ = accounts.open_session(account)
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, secure=True, samesite="strict", path="/")
    return response


@router.post("/logout", include_in_schema=False)
def logout(request: Request, ctx: Ctx) -> Response:
    session: Session = request.state.session
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        ctx.accounts().close_session(token)
    note(ctx, session.username, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- accounts (Admin PD) ---------------------------------------------------------------------


@router.get("/accounts", include_in_schema=False)
def accounts_page(request: Request, ctx: Ctx, session: Session = ADMIN_ONLY, done: str = "") -> Response:
    return render(request, "accounts.html", accounts=ctx.accounts().all(), error=None, done=done[:80])


@router.post("/accounts", include_in_schema=False)
def create_account(
    request: Request,
    ctx: Ctx,
    *,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    roles: Annotated[list[str], Form()],
    session: Session = ADMIN_ONLY,
) -> Response:
    accounts = ctx.accounts()
    try:
        wanted = [Role(r) for r in roles if r in Role._value2member_map_]
        account = accounts.create(username, password, wanted, by=session.username)
    except AuthError as exc:
        return render(request, "accounts.html", 400, accounts=accounts.all(), error=exc.screen_text, done="")
    note(ctx, session.username, "account.create", username=account.username, roles=",".join(sorted(account.roles)))
    return RedirectResponse(f"/accounts?done={account.username}", status_code=303)


@router.post("/accounts/{username}/active", include_in_schema=False)
def set_active(ctx: Ctx, username: str, active: Annotated[int, Form(ge=0, le=1)], session: Session = ADMIN_ONLY) -> Response:
    accounts = ctx.accounts()
    if accounts.get(username) is None or username == session.username:
        return RedirectResponse("/accounts", status_code=303)
    accounts.set_active(username, bool(active))
    note(ctx, session.username, "account.enable" if active else "account.disable", username=username)
    return RedirectResponse("/accounts", status_code=303)


# -- audit log (everyone logged in) ----------------------------------------------------------


def _entries(ctx: WebContext, request: Request, actor: str | None, action: str | None, limit: int) -> list[AuditOut]:
    """Newest first; NIPs, names and card UIDs only for Admin PD (issue 22, finding 11)."""
    session: Session | None = request.state.session
    rows = audit.entries(ctx.db.get(), actor=actor or None, action=action or None, limit=limit)
    if session is None or Role.ADMIN not in session.roles:
        rows = [audit.without_personal(e) for e in rows]
    return [AuditOut(id=e.id, at=e.at, actor=e.actor, action=e.action, detail=e.detail) for e in rows]


@router.get("/audit", include_in_schema=False)
def audit_page(request: Request, ctx: Ctx, actor: str = "", action: str = "") -> Response:
    return render(
        request, "audit.html", entries=_entries(ctx, request, actor[:80], action[:80], 300), actor=actor[:80], action=action[:80]
    )


@router.get("/api/audit", response_model=list[AuditOut], tags=["audit"])
def audit_api(
    request: Request,
    ctx: Ctx,
    actor: Annotated[str, Query(max_length=80)] = "",
    action: Annotated[str, Query(max_length=80)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AuditOut]:
    """The audit log, newest first: who did what, when (names, NIPs and card UIDs: Admin PD only)."""
    return _entries(ctx, request, actor, action, limit)
