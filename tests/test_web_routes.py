"""The maintenance app in process: every route guarded, CSRF, roles, path traversal, the JSON
API against its own OpenAPI schema (schemathesis). Diagnostics and the server probe are in
test_web_diagnostics.py; the app's test context in helpers/web_app.py."""

from __future__ import annotations

import html
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from helpers.web_app import PASSWORD, client_for, login, make_ctx, with_accounts
from starlette.routing import Mount, Route

from core.clock import ClockState, FakeClock, FixedClockState
from core.health import Health, report
from core.identity import DeviceIdentity
from core.store import audit
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore
from kiosk.web.app import create_maintenance_app, create_screen_app
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.ports import TapCapture
from kiosk.web.sources.export import UnsafePath, UsbTargets, safe_child


@pytest.fixture
def ctx(tmp_path: Path, clock: FakeClock) -> Iterator[WebContext]:
    context = with_accounts(make_ctx(tmp_path, clock))
    yield context
    context.db.close_all()


@pytest.fixture
def app(ctx: WebContext) -> FastAPI:
    return create_maintenance_app(ctx)


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


PUBLIC = {"/healthz", "/login", "/setup", "/lang/{code}"}


def test_every_route_needs_a_login_except_the_public_ones(app: FastAPI) -> None:
    client = client_for(app)
    checked = 0
    for route in iter_route_contexts(app.routes):  # the routes of the included routers too
        if isinstance(route.original_route, Mount):
            assert route.path == "/static", route.path  # stylesheets and scripts only
            continue
        assert isinstance(route.original_route, APIRoute | Route), route
        for method in route.methods or ():
            r = client.request(method, concrete(route.path), follow_redirects=False)
            if route.path in PUBLIC:
                assert r.status_code != 401, route.path
                continue
            checked += 1
            if route.path.startswith("/api/"):
                assert r.status_code == 401, (method, route.path, r.status_code)
            else:
                assert r.status_code in (303, 403), (method, route.path, r.status_code)
                if r.status_code == 303:
                    assert r.headers["location"].startswith("/login"), route.path
                else:  # an unsafe method without a session is refused for its missing CSRF token first
                    assert method in ("POST", "PUT", "PATCH", "DELETE")
    assert checked >= 30
    assert client.get("/openapi.json", follow_redirects=False).status_code == 303
    assert client.get("/healthz").json()["ok"] is True


def test_security_headers_on_every_page(app: FastAPI) -> None:
    client = client_for(app)
    r = client.get("/login")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "max-age" in r.headers["strict-transport-security"]
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_state_changes_without_csrf_token_are_refused(app: FastAPI, ctx: WebContext) -> None:
    client = client_for(app)
    csrf = login(client, "kepala")
    r = client.post("/employees", data={"employee_id": "198503302010011001", "name": "Budi"}, follow_redirects=False)
    assert r.status_code == 403
    r = client.post(
        "/employees", data={"employee_id": "198503302010011001", "name": "Budi", "csrf_token": "wrong"}, follow_redirects=False
    )
    assert r.status_code == 403
    assert client.post("/api/diagnostics").status_code == 403
    assert ctx.db.get().execute("SELECT count(*) FROM employees").fetchone()[0] == 0
    r = client.post(
        "/employees", data={"employee_id": "198503302010011001", "name": "Budi", "csrf_token": csrf}, follow_redirects=False
    )
    assert r.status_code == 303
    # the login form too: a login posted without its pre-session token is refused
    fresh = client_for(app)
    fresh.get("/login")
    assert fresh.post("/login", data={"username": "kepala", "password": PASSWORD}).status_code == 403


def test_roles_keep_technicians_out_of_admin_pages_and_back(app: FastAPI) -> None:
    tech = client_for(app)
    login(tech, "teknisi")
    for path in ("/employees", "/punches", "/export", "/accounts", "/api/punches", "/api/employees", "/export/files/x.csv"):
        assert tech.get(path).status_code == 403, path
    for path in ("/diagnostics", "/logs", "/config", "/system", "/api/logs", "/"):
        assert tech.get(path).status_code == 200, path
    admin = client_for(app)
    login(admin, "adminpd")
    for path in ("/diagnostics", "/logs", "/config", "/system", "/api/logs"):
        assert admin.get(path).status_code == 403, path
    assert admin.get("/employees").status_code == 200


def test_download_and_usb_target_refuse_path_traversal(app: FastAPI, ctx: WebContext, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("rahasia")
    client = client_for(app)
    csrf = login(client, "kepala")
    for name in ("..%2Fsecret.txt", "%2E%2E%2Fsecret.txt", "%2E%2E", ".hidden", "a%5C..%5Csecret.txt", "%2Fetc%2Fpasswd"):
        r = client.get(f"/export/files/{name}")
        assert r.status_code in (400, 404), name
        assert "rahasia" not in r.text
    for target in ("../", "../../etc", "/etc", "FLASHDISK/../..", "NOTMOUNTED"):
        r = client.post("/export", data={"csrf_token": csrf, "fmt": "csv", "target": target})
        assert r.status_code == 400, target
    assert not list((tmp_path / "media").glob("*.csv")) and not list(tmp_path.glob("*.csv"))
    with pytest.raises(UnsafePath):
        safe_child(tmp_path, "../x")
    with pytest.raises(UnsafePath):
        UsbTargets(tmp_path / "media", require_mount=True).resolve("FLASHDISK")  # a folder, not a mount


def test_export_csv_to_usb_and_download(app: FastAPI, ctx: WebContext, tmp_path: Path, clock: FakeClock) -> None:
    conn = ctx.db.get()
    conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('1985', 'Budi Santoso', 'x')")
    store = PunchStore(open_database(tmp_path / "presensi.db"), DeviceIdentity.generate(), clock, FixedClockState())
    store.record(PunchRequest("1985", "card", kind="masuk", status="tepat_waktu"))
    client = client_for(app)
    csrf = login(client, "adminpd")
    r = client.post(
        "/export", data={"csrf_token": csrf, "fmt": "csv", "target": "FLASHDISK", "start": "2026-11-23", "end": "2026-11-23"}
    )
    assert r.status_code == 200, r.text
    name = re.search(r'id="download" href="/export/files/([^"]+)"', r.text).group(1)
    on_stick = (tmp_path / "media" / "FLASHDISK" / name).read_bytes()
    assert b"Budi Santoso" in on_stick and b"07:30:00" in on_stick and b"WIB" in on_stick
    assert client.get(f"/export/files/{name}").content == on_stick
    actions = [e["action"] for e in client.get("/api/audit").json()]
    assert actions[:2] == ["export.download", "export"]


def test_card_registration_by_tap(app: FastAPI, ctx: WebContext) -> None:
    ctx.db.get().execute("INSERT INTO employees (id, name, updated_at) VALUES ('1985', 'Budi', 'x')")
    client = client_for(app)
    csrf = login(client, "adminpd")
    tapper = ctx.services.cards
    assert isinstance(tapper, TapCapture)
    assert not tapper.offer("04A1B2C3")  # not armed: a tap is a punch, not an enrolment

    def tap() -> None:
        assert tapper.wait_armed(10)
        assert tapper.offer("04:a1:b2:c3")

    t = threading.Thread(target=tap)
    t.start()
    r = client.post("/employees/1985/card", data={"csrf_token": csrf})
    t.join()
    assert r.status_code == 200 and "04A1B2C3" in r.text
    assert ctx.db.get().execute("SELECT employee_id FROM cards WHERE uid = '04A1B2C3'").fetchone()[0] == "1985"


def test_a_technician_reads_the_audit_log_without_nips_or_card_uids(app: FastAPI, ctx: WebContext, clock: FakeClock) -> None:
    """Issue 22, finding 11: /api/audit gave a technician every NIP and card UID."""
    audit.record(ctx.db.get(), "adminpd", "card.register", now=clock.now(), employee_id="198503302010011001", uid="04A1B2C3")
    tech = client_for(app)
    login(tech, "teknisi")
    entry = next(e for e in tech.get("/api/audit").json() if e["action"] == "card.register")
    assert entry["actor"] == "adminpd" and set(entry["detail"].values()) == {audit.HIDDEN}
    page = tech.get("/audit", params={"action": "card"}).text
    assert "198503302010011001" not in page and "04A1B2C3" not in page and "card.register" in page
    admin = client_for(app)
    login(admin, "adminpd")
    entry = next(e for e in admin.get("/api/audit").json() if e["action"] == "card.register")
    assert entry["detail"] == {"employee_id": "198503302010011001", "uid": "04A1B2C3"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ('[web]\nlog_file = "/var/lib/presensi/device_key.pem"\n', "web.log_file"),  # the device key through /api/logs
        ('[sync]\nserver_url = "https://elsewhere.example:8443"\n', "sync"),
        ('[[targets]]\ntype = "adms"\nurl = "https://elsewhere.example"\n', "targets"),
        ('[zk4370]\nenabled = true\nhost = "127.0.0.1"\n', "zk4370"),
        ('[privacy]\nkey_provider = "sim"\n', "privacy"),
        ('[web]\nservices = ["presensi-kiosk", "presensi-zk4370"]\n', "web.services"),
        ("[web]\nlockout_after = 50\n", "web.lockout_after"),
    ],
)
def test_the_config_page_cannot_repoint_files_servers_or_logins(
    app: FastAPI, ctx: WebContext, tmp_path: Path, change: str, key: str
) -> None:
    """Issue 22, finding 2: a technician pointed web.log_file at the device key and read it."""
    path = tmp_path / "kiosk.toml"
    path.write_text('[unit]\nname = "Kantor A"\n')
    ctx.config_path = path
    client = client_for(app)
    csrf = login(client, "teknisi")
    r = client.post("/config", data={"csrf_token": csrf, "text": '[unit]\nname = "Kantor A"\n' + change, "apply": "yes"})
    assert r.status_code == 422 and f"{key}: tidak dapat diubah dari halaman pemeliharaan" in html.unescape(r.text)
    assert path.read_text() == '[unit]\nname = "Kantor A"\n'


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,  # RecursionError in tomllib
        "[unit]\nname = 1" + "0" * 5000,  # ValueError: more digits than int_max_str_digits
        "x = " + "[" * 40 + "]" * 40,  # parses, but no setting nests like that
    ],
    ids=["deep", "long-integer", "nested"],
)
def test_hostile_toml_on_the_config_page_is_a_clean_refusal(app: FastAPI, ctx: WebContext, tmp_path: Path, text: str) -> None:
    """Issue 22, finding 10: deeply nested TOML or a 5,000-digit integer posted to /config gave 500."""
    ctx.config_path = tmp_path / "kiosk.toml"
    client = client_for(app)
    csrf = login(client, "teknisi")
    r = client.post("/config", data={"csrf_token": csrf, "text": text, "apply": "yes"})
    assert r.status_code == 422 and "(file): " in html.unescape(r.text)
    assert not ctx.config_path.exists()


def test_a_read_only_config_file_says_how_to_change_it(app: FastAPI, ctx: WebContext, tmp_path: Path) -> None:
    """The installed layout's /etc/presensi belongs to root: a clear message, not a 500."""
    if os.geteuid() == 0:  # root writes through permissions: a file system that refuses writes
        ctx.config_path = Path("/proc/presensi-kiosk.toml")
    else:
        folder = tmp_path / "etc"
        folder.mkdir()
        ctx.config_path = folder / "kiosk.toml"
        ctx.config_path.write_text("")
        folder.chmod(0o555)
    client = client_for(app)
    csrf = login(client, "teknisi")
    r = client.post("/config", data={"csrf_token": csrf, "text": '[unit]\nname = "Kantor B"\n', "apply": "yes"})
    assert r.status_code == 409 and f"sudoedit {ctx.config_path}" in html.unescape(r.text)


def test_config_editor_validates_and_shows_a_diff(app: FastAPI, ctx: WebContext, tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[unit]\nname = "Kantor A"\n')
    ctx.config_path = path
    client = client_for(app)
    csrf = login(client, "teknisi")
    bad = client.post("/config", data={"csrf_token": csrf, "text": '[unit]\nname = "Kantor B"\nwarna = 1\n', "apply": "yes"})
    assert bad.status_code == 422 and "unit.warna: kunci tidak dikenal" in bad.text  # in the page's language (issue 23.5)
    assert path.read_text() == '[unit]\nname = "Kantor A"\n'
    preview = client.post("/config", data={"csrf_token": csrf, "text": '[unit]\nname = "Kantor B"\n'})
    assert "-name = &#34;Kantor A&#34;" in preview.text and "+name = &#34;Kantor B&#34;" in preview.text
    assert path.read_text() == '[unit]\nname = "Kantor A"\n'
    client.post("/config", data={"csrf_token": csrf, "text": '[unit]\nname = "Kantor B"\n', "apply": "yes"})
    assert path.read_text() == '[unit]\nname = "Kantor B"\n'


def test_system_actions_need_confirmation_and_time_only_when_unsynced(app: FastAPI, ctx: WebContext) -> None:
    client = client_for(app)
    csrf = login(client, "teknisi")
    system = ctx.services.system
    assert isinstance(system, SimSystemActions)
    r = client.post("/system/restart", data={"csrf_token": csrf, "unit": "presensi-sync"})
    assert 'id="confirm"' in r.text and system.calls == []
    client.post("/system/restart", data={"csrf_token": csrf, "unit": "presensi-sync", "confirmed": "yes"})
    assert system.calls == [("restart", "presensi-sync")]
    assert client.post("/system/restart", data={"csrf_token": csrf, "unit": "sshd", "confirmed": "yes"}).status_code == 400
    assert (
        client.post("/system/time", data={"csrf_token": csrf, "local": "2026-11-23T08:00", "confirmed": "yes"}).status_code == 409
    )
    ctx.clock_state = FixedClockState(ClockState.UNSYNCED)
    client.post("/system/time", data={"csrf_token": csrf, "local": "2026-11-23T08:00", "confirmed": "yes"})
    assert system.calls[-1] == ("set_time", "2026-11-23T01:00:00+00:00")


def test_dashboard_reports_health_sync_and_host(app: FastAPI, ctx: WebContext, clock: FakeClock, tmp_path: Path) -> None:
    conn = ctx.db.get()
    report(conn, "card_reader", Health.FAIL, "reader unplugged", now=clock.now(), error="PC/SC: no reader")
    report(conn, "sync", Health.OK, "uploading", now=clock.now(), metrics={"clock_offset_s": 1.5})
    store = PunchStore(open_database(tmp_path / "presensi.db"), DeviceIdentity.generate(), clock, FixedClockState())
    for _ in range(3):
        store.record(PunchRequest("1985", "card"))
        clock.advance(60)
    conn.execute(
        "INSERT INTO sync_cursors (target, acked_seq, updated_at) VALUES ('presensi_v1', 1, '2026-11-23T00:31:00+00:00')"
    )
    client = client_for(app)
    login(client, "teknisi")
    d = client.get("/api/dashboard").json()
    assert d["sync"]["unsent"] == 2 and d["sync"]["oldest_unsent_age_s"] == pytest.approx(120, abs=1)
    assert d["clock_offset_s"] == 1.5 and d["cpu_temp_c"] == pytest.approx(51.234)
    assert d["uptime_s"] == pytest.approx(93784.12) and d["under_voltage"] is False
    assert d["interfaces"][0]["addresses"] == ["192.168.10.20/24"] and d["gateway"] == "192.168.10.1"
    reader = next(p for p in d["parts"] if p["part"] == "card_reader")
    assert reader["status"] == "fail" and reader["last_error"] == "PC/SC: no reader"
    assert d["database"]["integrity_ok"] is True


def test_dashboard_shows_the_face_gallery_of_the_active_embedder(app: FastAPI, ctx: WebContext, clock: FakeClock) -> None:
    from core.store import roster
    from kiosk.face.embedders import DLIB_ID

    conn = ctx.db.get()
    for employee in ("A1", "B2", "C3"):
        roster.upsert_employee(conn, employee, employee, now=clock.now())
    roster.add_face_template(conn, "A1", b"\0" * 512, "plain", now=clock.now())  # dlib's (the active embedder)
    roster.add_face_template(conn, "B2", b"\0" * 512, "plain", now=clock.now(), embedder="ab" * 32)  # another model's
    roster.replace_lookalikes(conn, DLIB_ID, {("A1", "C3"): 0.3}, now=clock.now())
    client = client_for(app)
    login(client, "teknisi")
    faces = client.get("/api/dashboard").json()["faces"]
    assert faces["embedder"].startswith("dlib (") and faces["enabled"] is True
    assert (faces["active"], faces["with_template"], faces["without_template"]) == (3, 1, 2)
    assert faces["other_embedder_only"] == 1 and faces["lookalike_pairs"] == 1
    assert faces["lookalikes"] == ["A1 ~ C3 (0.30)"]


def test_screen_refuses_anyone_but_the_unit_itself(ctx: WebContext) -> None:
    screen = create_screen_app(ctx)
    assert TestClient(screen, base_url="http://127.0.0.1").get("/api/screen/status").status_code == 200
    assert TestClient(screen, base_url="http://evil.example").get("/").status_code == 403  # DNS rebinding
    assert TestClient(screen, base_url="http://127.0.0.1", client=("10.0.0.7", 5000)).get("/").status_code == 403


def test_openapi_schema_conformance_with_schemathesis(app: FastAPI, ctx: WebContext, clock: FakeClock, tmp_path: Path) -> None:
    """Every JSON endpoint is in the schema, and generated requests (authenticated) never get a
    5xx nor a response outside the schema."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    conn = ctx.db.get()
    conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('1985', 'Budi', 'x')")
    report(conn, "camera", Health.WARN, "low fps", now=clock.now(), metrics={"fps": 4.0})
    store = PunchStore(open_database(tmp_path / "presensi.db"), DeviceIdentity.generate(), clock, FixedClockState())
    store.record(PunchRequest("1985", "face", kind="masuk", status="terlambat", minutes=12))
    client = client_for(app)
    csrf = login(client, "kepala")
    raw = client.get("/openapi.json").json()
    json_paths = {p for p in raw["paths"]}
    api_routes = {
        r.path
        for r in iter_route_contexts(app.routes)
        if isinstance(r.original_route, APIRoute) and (r.path.startswith("/api/") or r.path == "/healthz")
    }
    assert api_routes == json_paths, "every JSON endpoint must be described by OpenAPI (and only those)"
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = app  # calls go to the app in process, through the same middleware and guard
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    headers = {"X-CSRF-Token": csrf, "Cookie": cookie}
    ops = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        ops += 1

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            response = case.call(base_url="https://testserver", headers=headers)
            assert response.status_code < 500, (case.path, response.text)
            assert response.status_code not in (401, 403), (case.path, response.status_code)  # really authenticated
            case.validate_response(response, headers=headers)

        check()
    assert ops >= 7


def test_day_bounds_at_the_ends_of_the_calendar_bound_nothing() -> None:
    from datetime import date
    from zoneinfo import ZoneInfo

    from core.store.records import day_bound

    wib = ZoneInfo("Asia/Jakarta")
    assert day_bound(date(2026, 11, 23), wib) == "2026-11-22T17:00:00.000Z"
    assert day_bound(date(2026, 11, 23), wib, next_day=True) == "2026-11-23T17:00:00.000Z"
    assert day_bound(date(1, 1, 1), wib) < "2000"  # from the beginning
    assert day_bound(date(9999, 12, 31), wib, next_day=True) > "9999-12-31T23:59:59.999Z"  # to the end


def test_setting_the_time_records_a_technician_anchor_and_corrects_the_boot(
    app: FastAPI, ctx: WebContext, clock: FakeClock
) -> None:
    """The maintenance page sets the clock through the unit's TimeKeeper: the audit entry, a
    technician anchor, and a signed correction for the punch recorded while the clock was wrong."""
    from core.identity import DeviceIdentity
    from core.store.punches import PunchRequest, PunchStore
    from core.timekeeping import FixedTimeFacts, TimeKeeper

    conn = ctx.db.new()
    identity = DeviceIdentity.generate()
    keeper = TimeKeeper(conn, clock, identity, facts=FixedTimeFacts(ClockState.UNSYNCED))
    store = PunchStore(conn, identity, clock, keeper)
    punch = store.record(PunchRequest("198503302010011001", "card"))
    assert punch.clock_state == "unsynced"
    ctx.clock_state = keeper
    client = client_for(app)
    csrf = login(client, "teknisi")
    client.post("/system/time", data={"csrf_token": csrf, "local": "2026-11-23T08:00", "confirmed": "yes"})
    system = ctx.services.system
    assert isinstance(system, SimSystemActions) and system.calls[-1] == ("set_time", "2026-11-23T01:00:00+00:00")
    anchor = conn.execute("SELECT source, true_utc FROM time_anchors").fetchone()
    assert anchor["source"] == "technician" and anchor["true_utc"].startswith("2026-11-23T01:00:00")
    corrected = conn.execute("SELECT punch_id FROM punch_corrections").fetchall()
    assert [r["punch_id"] for r in corrected] == [punch.id]
    audit = conn.execute("SELECT action, detail FROM audit_log WHERE action = 'system.set_time'").fetchone()
    assert audit is not None and '"anchor": true' in audit["detail"]


def test_a_typed_time_keeps_its_seconds_and_the_confirmation_wait(app: FastAPI, ctx: WebContext, clock: FakeClock) -> None:
    """Issue 21: a technician's time was set to the minute (49 s off). Seconds are taken, and the
    time the confirmation page stood open is added (the time typed was true when it was sent)."""
    import re

    from kiosk.web.maintenance.actions import SimSystemActions

    ctx.clock_state = FixedClockState(ClockState.UNSYNCED)
    client = client_for(app)
    csrf = login(client, "teknisi")
    asked = client.post("/system/time", data={"csrf_token": csrf, "local": "2026-11-23T08:00:49"})
    assert asked.status_code == 200 and "Setel jam ke 2026-11-23 08:00:49 WIB?" in asked.text
    typed_mono = re.search(r'name="typed_mono_ns" value="(\d+)"', asked.text)
    assert typed_mono is not None
    clock.advance(12)  # the technician reads the confirmation for twelve seconds
    client.post(
        "/system/time",
        data={"csrf_token": csrf, "local": "2026-11-23T08:00:49", "confirmed": "yes", "typed_mono_ns": typed_mono.group(1)},
    )
    system = ctx.services.system
    assert isinstance(system, SimSystemActions) and system.calls[-1] == ("set_time", "2026-11-23T01:01:01+00:00")  # 08:01:01 WIB


def test_erasing_an_employee_on_the_page_needs_admin_and_confirmation(app: FastAPI, ctx: WebContext, clock: FakeClock) -> None:
    import numpy as np

    from core.store import roster
    from core.templates.face import seal

    conn = ctx.db.new()
    roster.upsert_employee(conn, "1990", "Siti Rahmawati", now=clock.now())
    blob, scheme = seal(np.zeros(128, np.float32))
    conn.execute(
        "INSERT INTO face_templates (employee_id, encoding, scheme, created_at) VALUES ('1990', ?, ?, '2026-11-23T00:00:00Z')",
        (blob, scheme),
    )
    conn.execute("INSERT INTO cards (uid, employee_id, created_at) VALUES ('04AABBCC', '1990', '2026-11-23T00:00:00Z')")
    conn.commit()
    technician = client_for(app)
    csrf = login(technician, "teknisi")
    assert technician.post("/employees/1990/erase", data={"csrf_token": csrf, "confirmed": "yes"}).status_code == 403
    admin = client_for(app)
    csrf = login(admin, "adminpd")
    asked = admin.post("/employees/1990/erase", data={"csrf_token": csrf})
    assert 'id="confirm"' in asked.text and "Siti Rahmawati" in asked.text
    assert conn.execute("SELECT count(*) FROM face_templates").fetchone()[0] == 1  # nothing yet
    done = admin.post("/employees/1990/erase", data={"csrf_token": csrf, "confirmed": "yes"})
    assert done.status_code == 200 and "Dihapus: 1 templat wajah, 0 templat sidik jari, 1 kartu" in done.text
    assert conn.execute("SELECT count(*) FROM face_templates").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM cards").fetchone()[0] == 0
    assert conn.execute("SELECT active FROM employees WHERE id = '1990'").fetchone()[0] == 0
    audit = conn.execute("SELECT actor, detail FROM audit_log WHERE action = 'employee.erase'").fetchone()
    assert audit["actor"] == "adminpd" and '"faces": 1' in audit["detail"] and "encoding" not in audit["detail"]
