"""What every page of the reference server says its words with: the language a person chose and
the catalogue's ``t``, ``word`` and ``lang`` (:mod:`core.i18n`), a template context processor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request

from core.clock import shown_time
from core.i18n import LANG_COOKIE, detail_text, language, template_globals
from sync.server.daybook import DEFAULT_ZONE


def page_language(request: Request) -> str:
    """The language a person chose on the server's pages (the maintenance page's cookie and
    switch), Bahasa Indonesia unless they chose English."""
    return language(request.cookies.get(LANG_COOKIE))


def page_words(request: Request) -> dict[str, Any]:
    """What every page of the server gets: ``t``, ``word`` and ``lang`` from the catalogue
    (:mod:`core.i18n`), ``when`` for a stored instant in local time, ``here`` for the switch."""
    lang = page_language(request)

    def when(value: object) -> str:
        return shown_time(value if isinstance(value, (str, datetime)) or value is None else str(value), DEFAULT_ZONE)

    def measure(value: object, unit: str) -> str:
        return "—" if value is None or value == "" else f"{value} {unit}"

    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")

    def detail(value: str | None) -> str:
        return detail_text(value, lang, when)

    return {**template_globals(lang), "when": when, "measure": measure, "detail": detail, "here": here}
