"""The back office's pages: login, roles (Admin PD sees their office, BKPSDM every office), CSRF,
keterangan with a document and its approval, the daily status and the recap files."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from core.clock import FakeClock
from sync.server.app import create_app
from sync.server.config import ServerConfig
from sync.server.officers import Officers
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage
from tests.helpers.recap_support import local, store_punch

PDF = b"%PDF-1.4\n%%EOF\n"
NIP, OTHER = "198001012006041001", "199001012015041002"


@pytest.fixture
def server(tmp_path):
    url = f"sqlite:///{tmp_path}/server.db"
    storage = Storage(url)
    storage.create_schema()
    clock = FakeClock(datetime(2026, 11, 3, 1, 0, tzinfo=UTC))  # Tuesday 08:00 WIB
    roster = RosterAdmin(storage, clock)
    roster.add_unit("DISKOMINFO", "Dinas Kominfo")
    roster.add_unit("BAPPEDA", "Bappeda")
    roster.add_employee(NIP, "Budi", unit_code="DISKOMINFO", work_code="JEMBER-5H")
    roster.add_employee(OTHER, "Sari", unit_code="BAPPEDA", work_code="JEMBER-5H")
    officers = Officers(storage, clock)
    officers.create("admin.kominfo", "kata-sandi-admin-1", "admin_pd", "DISKOMINFO")
    officers.create("bkpsdm.ani", "kata-sandi-bkpsdm-1", "bkpsdm")
    store_punch(storage, NIP, local("2026-11-02", "07:12"))
    app = create_app(ServerConfig(database_url=url, allow_plain_http=True), storage, clock)
    yield app, clock
    storage.close()


def login(app, name: str, password: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000))
    answer = client.post("/kantor/masuk", data={"name": name, "password": password})
    assert answer.status_code == 200 and "/kantor/masuk" not in str(answer.url), answer.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', answer.text)
    assert csrf is not None
    return client, csrf.group(1)


def listing_headers(client: TestClient) -> str:
    return client.get("/kantor/keterangan").headers["content-security-policy"]


def test_pages_need_a_login(server) -> None:
    app, _ = server
    client = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000))
    for path in (
        "/kantor",
        "/kantor/keterangan",
        "/kantor/rekap",
        "/kantor/rekap.csv?month=2026-11",
        "/kantor/keterangan/1/dokumen",
    ):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/kantor/masuk", path
    assert client.post("/kantor/masuk", data={"name": "admin.kominfo", "password": "salah-salah-salah"}).status_code == 401


def test_admin_pd_sees_their_office_and_bkpsdm_approves(server) -> None:
    app, clock = server
    admin, csrf = login(app, "admin.kominfo", "kata-sandi-admin-1")
    daily = admin.get("/kantor", params={"day": "2026-11-02"}).text
    assert "Budi" in daily and "Sari" not in daily and "07:12 WIB" in daily and "12 menit" in daily
    assert "Bappeda" not in admin.get("/kantor/rekap").text
    assert admin.get("/kantor/formulir.pdf", params={"office": "DISKOMINFO", "day": "2026-11-02"}).content.startswith(b"%PDF-")
    assert admin.get("/kantor/formulir.pdf", params={"office": "BAPPEDA", "month": "2026-11"}).status_code == 403
    assert admin.get("/kantor/rekap.csv", params={"month": "2026-11", "office": "BAPPEDA"}).status_code == 403
    form = {"employee_id": NIP, "code": "S", "first_day": "2026-11-03", "last_day": "2026-11-03", "csrf": csrf}
    files = {"document": ("surat.pdf", PDF, "application/pdf")}
    assert admin.post("/kantor/keterangan", data={**form, "csrf": "wrong"}, files=files).status_code == 403
    answer = admin.post("/kantor/keterangan", data=form, files=files)
    assert "Keterangan #1 diajukan" in answer.text
    refused = admin.post("/kantor/keterangan", data={**form, "employee_id": OTHER}, files=files)
    assert refused.status_code == 422 and "Pegawai tidak dikenal" in refused.text
    clock.set_wall(datetime(2026, 11, 4, 17, 0, tzinfo=UTC))  # the 3rd and 4th are over
    bkpsdm, token = login(app, "bkpsdm.ani", "kata-sandi-bkpsdm-1")
    listing = bkpsdm.get("/kantor/keterangan").text
    assert "Setujui" in listing and "Approve" not in listing  # one language (issue 23.5)
    document = bkpsdm.get("/kantor/keterangan/1/dokumen")
    assert document.content == PDF and document.headers["content-security-policy"] == "sandbox"
    assert document.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in listing_headers(bkpsdm)
    bkpsdm.post("/kantor/keterangan/1/putusan", data={"decision": "setujui", "csrf": token})
    daily = bkpsdm.get("/kantor", params={"office": "DISKOMINFO", "day": "2026-11-03"}).text
    assert "Sakit (S)" in daily
    assert "TK (tanpa keterangan)" in bkpsdm.get("/kantor", params={"office": "DISKOMINFO", "day": "2026-11-04"}).text
    history = bkpsdm.get(f"/kantor/riwayat/{NIP}/2026-11-03").text
    assert "keterangan #1 (S) disetujui" in history and "bkpsdm.ani" in history
    recap = bkpsdm.get("/kantor/rekap", params={"month": "2026-11", "office": "DISKOMINFO"}).text
    assert "Rekapitulasi Kehadiran Pegawai Bulan November 2026" in recap
    assert bkpsdm.get("/kantor/rekap.pdf", params={"month": "2026-11"}).content.startswith(b"%PDF-")
    assert bkpsdm.get("/kantor/rekap.xlsx", params={"month": "2026-11"}).content.startswith(b"PK")


def test_the_device_and_event_pages_are_bkpsdm_only(server) -> None:
    app, _ = server
    anonymous = TestClient(app, base_url="http://127.0.0.1", client=("127.0.0.1", 50000))
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/kantor/masuk"
    assert anonymous.get("/events", follow_redirects=False).status_code == 303
    assert anonymous.get("/admin/events").status_code == 401
    assert anonymous.get("/healthz").status_code == 200  # the protocol and health stay open
    admin, _ = login(app, "admin.kominfo", "kata-sandi-admin-1")
    assert admin.get("/").status_code == 403 and admin.get("/admin/events").status_code == 403
    bkpsdm, _ = login(app, "bkpsdm.ani", "kata-sandi-bkpsdm-1")
    assert bkpsdm.get("/").status_code == 200 and bkpsdm.get("/admin/events").json() == {"events": []}
