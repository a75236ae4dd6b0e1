"""Staff ids (issue 23.12): an 18-digit NIP with its date parts checked, or the regency's pattern
for staff without a NIP; "abc" is refused on the maintenance page with a sentence saying why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.web_app import client_for, login, make_ctx, with_accounts

from core.clock import FakeClock
from core.errors import EnrolmentError
from core.nip import check_staff_id, nip_problem
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext


@pytest.mark.parametrize(
    ("nip", "problem"),
    [
        ("199001012019032002", None),  # born 1 Jan 1990, appointed March 2019, woman, no. 002
        ("198503302010011001", None),
        ("abc", "18 angka"),
        ("19900101201903200", "18 angka"),  # 17 digits
        ("199002302019032002", "tanggal lahir"),  # 30 February
        ("199001012019132002", "bulan pengangkatan"),  # month 13
        ("199001011995032002", "tahun pengangkatan"),  # appointed at five
        ("199001012019033002", "jenis kelamin"),
    ],
)
def test_nip_parts_are_checked(nip: str, problem: str | None) -> None:
    found = nip_problem(nip)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_other_staff_need_the_configured_pattern() -> None:
    assert check_staff_id("P3K-0031", r"P3K-[0-9]{4}") == "P3K-0031"
    with pytest.raises(EnrolmentError, match="neither a valid NIP"):
        check_staff_id("P3K-0031")
    with pytest.raises(EnrolmentError) as refused:
        check_staff_id("abc", r"P3K-[0-9]{4}")
    assert "P3K-[0-9]{4}" in refused.value.screen_text


@pytest.fixture
def ctx(tmp_path: Path, clock: FakeClock) -> Iterator[WebContext]:
    context = with_accounts(make_ctx(tmp_path, clock))
    yield context
    context.db.close_all()


def test_the_maintenance_page_refuses_abc_and_takes_a_nip(ctx: WebContext) -> None:
    client = client_for(create_maintenance_app(ctx))
    csrf = login(client, "adminpd")
    refused = client.post("/employees", data={"csrf_token": csrf, "employee_id": "abc", "name": "Budi"}, follow_redirects=False)
    assert refused.status_code == 400 and "NIP/ID tidak valid: NIP harus 18 angka" in refused.text
    taken = client.post(
        "/employees", data={"csrf_token": csrf, "employee_id": "199001012019032002", "name": "Siti"}, follow_redirects=False
    )
    assert taken.status_code == 303
