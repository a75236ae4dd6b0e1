"""Every time a person reads is local, in one format (issue 23.6)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from helpers.web_app import client_for, login, make_ctx, with_accounts

from core.clock import FakeClock, shown_time
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|[+-]00:00\b|\d\dZ\b")


def test_shown_time_is_local_with_the_zone_name() -> None:
    instant = datetime(2026, 11, 23, 0, 5, 9, tzinfo=UTC)
    assert shown_time(instant, "Asia/Jakarta") == "2026-11-23 07:05:09 WIB"
    assert shown_time("2026-11-23T00:05:09Z", "Asia/Makassar") == "2026-11-23 08:05:09 WITA"
    assert shown_time("2026-11-23T00:05:09.123+00:00", "Asia/Jayapura") == "2026-11-23 09:05:09 WIT"
    assert shown_time(None, "Asia/Jakarta") == "—"
    assert shown_time("bukan waktu", "Asia/Jakarta") == "bukan waktu"


@pytest.fixture
def ctx(tmp_path: Path, clock: FakeClock) -> Iterator[WebContext]:
    context = with_accounts(make_ctx(tmp_path, clock))
    context.config.unit.zone = "Asia/Makassar"
    yield context
    context.db.close_all()


def test_the_audit_log_shows_local_times(ctx: WebContext) -> None:
    client = client_for(create_maintenance_app(ctx))
    login(client, "kepala")  # writes audit entries
    page = client.get("/audit").text
    assert "WITA" in page
    cells = re.findall(r"<tr><td>([^<]*)</td>", page)
    assert cells and not any(ISO_UTC.search(c) for c in cells), cells
