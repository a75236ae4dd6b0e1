"""What the maintenance forms share: an optional date that an empty box leaves unset, and an
answer in words for a form FastAPI cannot read (never its JSON on a page a person sees)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BeforeValidator, ValidationError

from core.errors import ConfigError
from core.i18n import CODES, text, word
from kiosk.web.security import page_vars


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


#: A date from a form or query string; the empty box a browser sends means "not given".
OptionalDate = Annotated[date | None, BeforeValidator(_blank_is_none)]

#: How a field is named to a person: the catalogue's "field" group (core.i18n).
FIELD_NAMES = CODES["field"]


def config_problems(exc: ConfigError, lang: str) -> list[str]:
    """A configuration's problems in ``lang``: each key with what is wrong and what it expects,
    from pydantic's error types (its own sentences are English); other problems as they are."""
    cause = exc.__cause__
    if not isinstance(cause, ValidationError):
        return exc.problems
    lines = []
    for error in cause.errors():
        path = ".".join(str(part) for part in error["loc"]) or text("config.top_level", lang)
        lines.append(f"{path}: {_config_problem(error, lang)}")
    return lines


def _config_problem(error: Any, lang: str) -> str:
    kind: str = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return text("config.unknown_key", lang)
    if kind == "missing":
        return text("config.missing", lang)
    if kind == "literal_error":
        return text("config.one_of", lang, expected=ctx.get("expected", ""))
    for bound, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if bound in ctx:
            return text("config.bound", lang, bound=f"{sign} {ctx[bound]}")
    if kind.endswith(("_type", "_parsing")):
        name = kind.removesuffix("_parsing").removesuffix("_type")
        return text("config.expected", lang, expected=word("value_type", name, lang))
    message = str(error.get("msg", "")).removeprefix("Value error, ")
    return text("config.not_valid", lang, detail=message)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def describe_problems(exc: RequestValidationError, lang: str) -> str:
    """One sentence naming each field that is missing or not readable."""
    names: list[str] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")]
        field = loc[-1] if loc else "?"
        if field.isdigit() and len(loc) > 1:
            field = loc[-2]
        label = word("field", field, lang)
        if label not in names:
            names.append(label)
    return text("page.form_problems", lang, fields=", ".join(names))


def install_form_errors(app: FastAPI, templates: Jinja2Templates) -> None:
    """Pages answer an unreadable form with the error page and a sentence; the JSON API keeps
    FastAPI's 422 body, which programs read."""

    @app.exception_handler(RequestValidationError)
    async def _form_error(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        lang = getattr(request.state, "lang", "id")
        title = text("page.form_incomplete", lang)
        return templates.TemplateResponse(
            request, "error.html", page_vars(request, title=title, message=describe_problems(exc, lang)), status_code=400
        )
