"""The first-boot setup form as people type it (issue 23.12): the code without its dash or in
lower case is the code, and a mistake keeps what was typed (but never the passwords)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.web_app import PASSWORD, client_for, csrf_of, make_ctx

from core.clock import FakeClock
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext


@pytest.fixture
def ctx(tmp_path: Path, clock: FakeClock) -> Iterator[WebContext]:
    context = make_ctx(tmp_path, clock)
    yield context
    context.db.close_all()


def post_setup(ctx: WebContext, code: str, password2: str = PASSWORD) -> tuple[int, str]:
    client = client_for(create_maintenance_app(ctx))
    form = client.get("/setup").text
    r = client.post(
        "/setup",
        data={"csrf_token": csrf_of(form), "code": code, "username": "kepala", "password": PASSWORD, "password2": password2},
        follow_redirects=False,
    )
    return r.status_code, r.text


@pytest.mark.parametrize("typed", ["plain", "lower", "spaced"])
def test_the_setup_code_as_typed(ctx: WebContext, typed: str) -> None:
    code = ctx.accounts().setup_code()
    assert code and "-" in code
    given = {"plain": code.replace("-", ""), "lower": code.lower(), "spaced": f" {code[:4]} {code[5:]} "}[typed]
    status, _ = post_setup(ctx, given)
    assert status == 303
    assert ctx.accounts().count() == 1


def test_a_mistake_keeps_the_code_and_name_but_not_the_passwords(ctx: WebContext) -> None:
    code = ctx.accounts().setup_code()
    assert code
    status, page = post_setup(ctx, code, password2="lain-sama-sekali-1")
    assert status == 400 and "Kedua kata sandi tidak sama" in page
    assert f'value="{code}"' in page and 'value="kepala"' in page
    assert PASSWORD not in page
    wrong, _ = post_setup(ctx, "")
    assert wrong in (400, 422) and ctx.accounts().count() == 0
