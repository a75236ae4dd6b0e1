"""Forms answer in words, never with FastAPI's JSON (issue 23.2): the punch search with the empty
dates a browser sends, the config check with an empty box, an account with no role ticked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from helpers.web_app import client_for, login, make_ctx, with_accounts

from core.clock import FakeClock
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext


@pytest.fixture
def ctx(tmp_path: Path, clock: FakeClock) -> Iterator[WebContext]:
    context = with_accounts(make_ctx(tmp_path, clock))
    yield context
    context.db.close_all()


def logged_in(ctx: WebContext, username: str) -> tuple[TestClient, str]:
    client = client_for(create_maintenance_app(ctx))
    return client, login(client, username)


def assert_a_page_in_words(response_text: str, content_type: str, *words: str) -> None:
    assert content_type.startswith("text/html"), content_type
    assert '"detail"' not in response_text and "Field required" not in response_text
    for word in words:
        assert word in response_text


def test_punch_search_with_empty_dates_lists_punches(ctx: WebContext) -> None:
    client, _ = logged_in(ctx, "adminpd")
    r = client.get("/punches", params={"start": "", "end": "", "employee": ""})
    assert r.status_code == 200
    assert_a_page_in_words(r.text, r.headers["content-type"])
    assert client.get("/api/punches", params={"start": "", "end": ""}).status_code == 200


def test_a_date_that_is_not_a_date_is_named_in_indonesian(ctx: WebContext) -> None:
    client, _ = logged_in(ctx, "adminpd")
    r = client.get("/punches", params={"start": "kemarin"})
    assert r.status_code == 400
    assert_a_page_in_words(r.text, r.headers["content-type"], "tanggal awal", "Periksa lalu kirim lagi")
    api = client.get("/api/punches", params={"start": "kemarin"})
    assert api.status_code == 422 and api.json()["detail"]  # programs keep the JSON


def test_config_check_with_an_empty_box(ctx: WebContext) -> None:
    client, csrf = logged_in(ctx, "teknisi")
    r = client.post("/config", data={"csrf_token": csrf})
    assert r.status_code == 400
    assert_a_page_in_words(r.text, r.headers["content-type"], "isi konfigurasi")


def test_account_with_no_role_ticked(ctx: WebContext) -> None:
    client, csrf = logged_in(ctx, "kepala")
    r = client.post("/accounts", data={"csrf_token": csrf, "username": "baru", "password": "sandi-yang-kuat-2"})
    assert r.status_code == 400
    assert_a_page_in_words(r.text, r.headers["content-type"], "peran (centang minimal satu)")
