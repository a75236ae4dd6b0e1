"""What every page of the unit reaches its collaborators through: FastAPI dependencies over what
the app factory sets once on ``app.state`` (the :class:`WebContext`, the templates), one
``render`` and one ``note`` (the audit log).

A page module defines ``router = APIRouter()`` and module-level routes that take ``ctx: Ctx``
(FastAPI's "bigger applications" layout); the factories in :mod:`kiosk.web.app` include them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from core.store import audit
from core.store.accounts import Session
from kiosk.web.context import WebContext
from kiosk.web.security import page_vars


def attach(app: FastAPI, ctx: WebContext, tpl: Jinja2Templates) -> None:
    """What the routes of ``app`` reach through :data:`Ctx` and :func:`render`."""
    app.state.ctx = ctx
    app.state.templates = tpl


async def web_context(request: Request) -> WebContext:
    """The app's :class:`WebContext` (a coroutine, so FastAPI resolves it without a thread)."""
    ctx: WebContext = request.app.state.ctx
    return ctx


#: A route parameter holding the app's :class:`WebContext`.
Ctx = Annotated[WebContext, Depends(web_context)]


def page_templates(request: Request) -> Jinja2Templates:
    tpl: Jinja2Templates = request.app.state.templates
    return tpl


def render(request: Request, name: str, status: int = 200, **extra: object) -> Response:
    """The template ``name`` with what every maintenance page gets (:func:`page_vars`)."""
    return page_templates(request).TemplateResponse(request, name, page_vars(request, **extra), status_code=status)


def note(ctx: WebContext, who: Session | str, action: str, **detail: object) -> None:
    """One line of the audit log: ``who`` (a session, or a name before there is one) did ``action``."""
    actor = who if isinstance(who, str) else who.username
    audit.record(ctx.db.get(), actor, action, now=ctx.clock.now(), **detail)
