"""Issue 23, item 5: every page a person reads, in each language, says nothing in the other one.

Debian's Chromium (Playwright) walks every page of a unit (the maintenance pages after login,
their confirmation dialogs and error answers, the kiosk screen) and of the central server (the
device and event pages, the /kantor back office after login) at 800 and 1366 px, in Bahasa
Indonesia and in English, against the real servers on 127.0.0.1. On each page:

- no JSON error body (FastAPI's ``{"detail": …}``);
- no sideways scroll;
- no word that only the other language uses (the catalogue's words of one language that the
  other never uses, :func:`core.i18n.tell_tales`), nor a raw code (``card_reader``,
  ``tanpa_jadwal``, ``setup.failed``, ``None``, ``synced`` …, any ``snake_case`` word);
- no UTC instant (``…T…``, ``…Z``, ``+00:00``).

The data is what a unit in service holds: a failing card reader, a connected fingerprint module,
punches by card and finger without a schedule, a failed setup attempt in the audit log, a server
with a unit that has not sent its temperature. Screenshots go to the artifacts folder, and to
``docs/images`` when ``PRESENSI_DOCS_IMAGES=1``.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from helpers.browser_unit import served_unit, sim_unit_config
from helpers.recap_support import local, store_punch
from PIL import Image

from core import i18n
from core.clock import FakeClock, FixedClockState
from core.health import Health, report
from core.identity import DeviceIdentity
from core.store import audit
from core.store.accounts import Accounts, Role
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore, format_instant
from kiosk.checks.findings import Finding, Status
from kiosk.web.context import WebContext
from kiosk.web.ports import Decision
from kiosk.web.server import Running, serve_in_thread
from sync.server.app import create_app
from sync.server.config import ServerConfig
from sync.server.keterangan import Document, KeteranganBook
from sync.server.ledger import Ledger
from sync.server.officers import Officers
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
PASSWORD = "Rahasia-Kantor-2026"
NIP, OTHER = "198503302010011001", "199001012019032002"
DOCS_IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

#: Codes that must never reach a person, whatever the language (issue 23, item 5).
RAW_CODES = re.compile(r"\b(None|null|undefined|synced|unsynced|card_reader|tanpa_jadwal|setup\.failed|tepat_waktu)\b")
SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d|\d\d:\d\d(?::\d\d)?(?:\.\d+)?Z\b|[+-]00:00\b|\bUTC\b")
WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'-]+")
ERROR_ID = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")

#: Words both languages use on these pages although only one side of the catalogue has them:
#: names of things that are not translated (products, programs, regulation names).
SHARED = {
    "presensi",  # the product's name (Presensi Kiosk)
    "kiosk",
    "admin",  # "Admin PD", the regulations' name of the office's operator
    "bkpsdm",
    "nip",
    "opd",
    "perbup",
    "lampiran",
    "jember",
    "purbalingga",
    "malang",
    "pasal",
    "ayat",
    "juknis",
    "diklat",  # "Training (Diklat)": the regulation's term is kept beside its English
    "tk",
    "keterangan",  # the regulations' term; English says "absence reasons" beside it where it can
    "rtc",
    "wib",
    "sha-256",
}

#: The page's own text, without what is data or code a person types (TOML, commands).
PAGE_TEXT_JS = """
() => {
  const skip = new Set(["TEXTAREA", "PRE", "CODE", "SCRIPT", "STYLE"]);
  const out = [];
  const walk = (node) => {
    if (node.nodeType === 3) { out.push(node.textContent); return; }
    if (node.nodeType !== 1 || skip.has(node.tagName)) return;
    const style = getComputedStyle(node);
    if (style.display === "none" || style.visibility === "hidden" || node.hidden) return;
    if (node.tagName === "INPUT" && ["submit", "button"].includes(node.type)) out.push(node.value);
    if (node.title) out.push(node.title);
    for (const child of node.childNodes) walk(child);
    out.push(" ");
  };
  walk(document.body);
  document.querySelectorAll("select option").forEach((o) => out.push(" " + o.textContent + " "));
  out.push(" " + document.title + " ");
  return out.join(" ");
}
"""


def problems_on(page: object, lang: str, data_words: set[str]) -> list[str]:
    """What is wrong with the page in front of ``page`` for a reader of ``lang``."""
    found = []
    body = page.inner_text("body").strip()  # type: ignore[attr-defined]
    if body.startswith(("{", "[")) or '"detail":' in body:
        found.append(f"JSON body: {body[:120]}")
    over = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")  # type: ignore[attr-defined]
    if over > 0:
        found.append(f"scrolls sideways by {over} px")
    # a system's error identifier (SCARD_E_NO_READERS_AVAILABLE) is what a technician looks up: not a word
    shown = ERROR_ID.sub(" ", page.evaluate(PAGE_TEXT_JS))  # type: ignore[attr-defined]
    others = i18n.tell_tales(lang) - SHARED - data_words
    strangers = sorted({w.lower() for w in WORD.findall(shown)} & others)
    if strangers:
        found.append(f"words of the other language: {strangers}")
    raw = sorted(set(RAW_CODES.findall(shown)) | set(SNAKE.findall(shown)))
    if raw:
        found.append(f"raw codes: {raw}")
    utc = sorted(set(UTC_TIME.findall(shown)))
    if utc:
        found.append(f"UTC instants: {utc}")
    return found


def words_of(*texts: str) -> set[str]:
    return {w.lower() for t in texts for w in WORD.findall(t)}


@dataclass
class Unit:
    clock: FakeClock
    ctx: WebContext
    screen: Running
    maint: Running
    data_dir: Path

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.maint.port}"


@dataclass
class Server:
    url: str
    device_id: str
    event_id: str


@pytest.fixture(scope="module")
def unit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unit]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    data = tmp_path_factory.mktemp("unit")
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    identity = DeviceIdentity.load_or_create(data)
    config = sim_unit_config(data)
    conn = open_database(data / "presensi.db")
    for employee, name in ((NIP, "Budi Santoso"), (OTHER, "Siti Rahmawati")):
        conn.execute("INSERT INTO employees (id, name, updated_at) VALUES (?, ?, 'x')", (employee, name))
    store = PunchStore(conn, identity, clock, FixedClockState())
    store.record(PunchRequest(NIP, "card", kind="masuk", status="tanpa_jadwal"))
    store.record(PunchRequest(OTHER, "finger", kind="masuk", status="terlambat", minutes=12))
    accounts = Accounts(conn, clock)
    code = accounts.setup_code()
    assert code
    audit.record(conn, "(setup)", "setup.failed", now=clock.now(), addr="127.0.0.1")
    accounts.create_first(code, "kepala", PASSWORD, "127.0.0.1")
    accounts.create("teknisi", PASSWORD, [Role.TECHNICIAN], by="kepala")
    now = clock.now()
    # the details as the services write them (cards, bridge and camera in English, sync in Bahasa Indonesia)
    no_reader = "SCARD_E_NO_READERS_AVAILABLE"
    report(conn, "card_reader", Health.FAIL, f"PC/SC is not available: {no_reader}", now=now, error=no_reader)
    synced = {"queue_depth": 0, "acked_seq": 2, "clock_offset_s": -0.25}
    report(conn, "sync", Health.OK, "Tersinkron; antrean 0", now=now, metrics=synced)
    module = {"templates": 3, "capacity": 200}
    report(conn, "fingerprint", Health.OK, "sim-zhiantec module connected, 3 templates", now=now, metrics=module)
    report(conn, "camera", Health.OK, "file:demo-reel 1280×960 open", now=now, metrics={"fps": 14.9, "frames": 12345})
    conn.close()
    # a Pi without a battery clock: presensi doctor's RTC warning on the diagnostics page
    rtc = Finding(
        "rtc",
        Status.WARN,
        "no battery clock (RTC): after a power cut the unit wakes with the last saved time",
        "fit a DS3231 module and enable it (docs/time.md), or make sure the unit reaches NTP before punching",
    )
    with served_unit(data, clock, identity, config, doctor=lambda: [rtc]) as served:
        yield Unit(clock, served.ctx, served.screen, served.maint, data)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{data}/server.db"
    storage = Storage(url)
    storage.create_schema()
    clock = FakeClock(datetime(2026, 11, 4, 17, 1, tzinfo=UTC))  # Thursday 00:01 WIB: the 3rd and 4th are over
    roster = RosterAdmin(storage, clock)
    roster.add_unit("DISKOMINFO", "Dinas Komunikasi dan Informatika")
    roster.add_employee(NIP, "Budi Santoso", unit_code="DISKOMINFO", work_code="JEMBER-5H", position="Pranata Komputer")
    roster.add_employee(OTHER, "Citra Lestari", unit_code="DISKOMINFO", work_code="JEMBER-5H", position="Analis")
    ledger = Ledger(storage, clock)
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    device_id = ledger.provision(ledger.issue_token("DISKOMINFO"), public, "Lobi Kominfo")["device_id"]
    # a unit that reported a fault and no temperature (was "None °C")
    ledger.record_health(
        device_id,
        {
            "queue_depth": 0,
            "clock_state": "synced",
            "faults": [{"part": "card_reader", "detail": "PC/SC is not available: SCARD_E_NO_READERS_AVAILABLE"}],
        },
        "10.0.0.7",
    )
    store_punch(storage, OTHER, local("2026-11-03", "07:25"), device=device_id)
    store_punch(storage, NIP, local("2026-11-03", "16:05"), device=device_id, kind="pulang")
    ledger.reject("f" * 16, "upload", "unknown device key", "10.0.0.9")
    # Monday's apel with its attendance list: one came late, one did not come
    event_id = roster.add_event(
        {
            "id": "APEL-2026-11-02",
            "kind": "apel",
            "title": "Apel Senin",
            "location": {"name": "Alun-alun Jember"},
            "starts_at": "2026-11-02T00:00:00Z",
            "ends_at": "2026-11-02T01:00:00Z",
            "on_time_until": "2026-11-02T00:15:00Z",
            "units": [{"code": "I", "label": "Unit I", "devices": [device_id]}],
            "participants": [
                {"id": NIP, "name": "Budi Santoso", "office": "DISKOMINFO", "unit": "I"},
                {"id": OTHER, "name": "Citra Lestari", "office": "DISKOMINFO", "unit": "I"},
            ],
            "issued_at": "2026-11-01T00:00:00Z",
        }
    )
    roster.publish()
    store_punch(storage, NIP, local("2026-11-02", "07:20"), device=device_id, kind="apel", event_id=event_id)
    officers = Officers(storage, clock)
    admin = officers.create("admin.kominfo", "kata-sandi-admin-1", "admin_pd", "DISKOMINFO")
    officers.create("bkpsdm.ani", "kata-sandi-bkpsdm-1", "bkpsdm")
    app = create_app(ServerConfig(database_url=url, allow_plain_http=True, title="Presensi Kabupaten Jember"), storage, clock)
    keterangan = KeteranganBook(storage, clock, app.state.parts.days)
    day = date(2026, 11, 4)
    keterangan.submit(admin, NIP, "S", first=day, last=day, document=Document("surat.pdf", PDF))
    running = serve_in_thread(app, "127.0.0.1", 0, name="server")
    try:
        yield Server(f"http://127.0.0.1:{running.port}", device_id, event_id)
    finally:
        running.stop()
        storage.close()


@pytest.fixture(scope="module")
def browser(unit: Unit) -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def docs_png(page: object, name: str) -> None:
    """The viewport as a small PNG for docs/images (256 colours are plenty for a page)."""
    image = Image.open(io.BytesIO(page.screenshot())).convert("RGB")  # type: ignore[attr-defined]
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(DOCS_IMAGES / name, optimize=True)


def shoot(page: object, name: str, artifacts_dir: Path, *, docs: bool = False) -> None:
    page.screenshot(path=str(artifacts_dir / name), full_page=True)  # type: ignore[attr-defined]
    if docs and os.environ.get("PRESENSI_DOCS_IMAGES") == "1":
        docs_png(page, name)


UNIT_PAGES = (
    "/",
    "/diagnostics",
    "/accounts",
    "/employees",
    f"/employees/{NIP}",
    "/punches",
    "/export",
    "/logs",
    "/audit",
    "/config",
    "/system",
    "/report",
)


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("width", [800, 1366])
def test_every_unit_page_in_one_language(unit: Unit, browser: object, artifacts_dir: Path, lang: str, width: int) -> None:
    context = browser.new_context(ignore_https_errors=True, viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # the unit's own names and values: its name, people, accounts, services and camera source
    data = words_of("Dinas Kominfo Lobi Budi Santoso Siti Rahmawati kepala teknisi file:demo-reel", *unit.ctx.config.web.services)
    bad: dict[str, list[str]] = {}
    try:
        page.goto(f"{unit.url}/lang/{lang}?next=/login")
        if found := problems_on(page, lang, data):
            bad["/login"] = found
        page.fill("#username", "kepala")
        page.fill("#password", "salah-salah-salah")
        page.click("#login")
        page.wait_for_selector(".msg.bad")
        assert page.inner_text(".msg.bad") == i18n.text("said.wrong_login", lang)
        if found := problems_on(page, lang, data):
            bad["/login (wrong password)"] = found
        page.fill("#username", "kepala")
        page.fill("#password", PASSWORD)
        page.click("#login")
        page.wait_for_selector("#dashboard[data-loaded='1']", state="attached")
        for path in UNIT_PAGES:
            page.goto(f"{unit.url}{path}")
            if path == "/":
                page.wait_for_selector("#dashboard[data-loaded='1']", state="attached")
            if path == "/diagnostics":
                page.click("#run-diagnostics")
                page.wait_for_selector("#diag-summary[data-done='1']")
                assert i18n.text("doctor.no_rtc", lang) in page.inner_text("#diag-answers")
            assert "/login" not in page.url, path
            if found := problems_on(page, lang, data):
                bad[path] = found
            if width == 1366 and path in ("/", "/diagnostics"):
                shoot(page, f"maintenance{path.replace('/', '-').rstrip('-')}-{lang}.png", artifacts_dir, docs=lang == "id")
        # what forms answer: a confirmation, a configuration with a mistake, an incomplete form
        page.goto(f"{unit.url}/system")
        page.click("#reboot")
        page.wait_for_selector("#confirm-what")
        if found := problems_on(page, lang, data):
            bad["/system/reboot (confirm)"] = found
        page.goto(f"{unit.url}/config")
        page.fill("#config-text", '[unit]\nname = "Lobi"\nzone = 7\nlanguage = "fr"\ncolour = "biru"\n')
        page.click("#check")
        page.wait_for_selector("#problems")
        if found := problems_on(page, lang, data):
            bad["/config (problems)"] = found
        page.goto(f"{unit.url}/report")
        page.click("#make-report")
        page.wait_for_selector("#report")
        if found := problems_on(page, lang, data):
            bad["/report (the report)"] = found
        response = page.goto(f"{unit.url}/employees/000")
        assert response is not None and response.status == 404
        if found := problems_on(page, lang, data):
            bad["/employees/000 (not found)"] = found
        page.goto(f"{unit.url}/accounts")
        page.fill("#acc-username", f"operator{width}{lang}")
        page.fill("#acc-password", PASSWORD)
        page.click("#create-account")  # no role ticked
        page.wait_for_load_state("load")
        if found := problems_on(page, lang, data | {f"operator{width}{lang}"}):
            bad["/accounts (no role)"] = found
        assert errors == []
    finally:
        context.close()
    assert bad == {}, f"{lang} at {width} px: {bad}"


def test_the_walk_sees_what_it_looks_for(browser: object) -> None:
    """The checks are not vacuous: a page with each kind of mistake is caught."""
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.set_content(
            "<p>Jam: synced · Status online · card_reader connected · None °C · 2026-12-03T03:10:00Z</p>"
            "<p style='width:3000px'>Pembaca kartu</p>"
        )
        found = " ".join(problems_on(page, "id", set()))
        for expected in ("scrolls sideways", "online", "connected", "card_reader", "None", "synced", "UTC instants"):
            assert expected in found, expected
        page.set_content("<p>Pembaca kartu tersambung</p>")
        assert "kartu" in " ".join(problems_on(page, "en", set()))
        page.set_content('<pre>{"detail": [{"msg": "Field required"}]}</pre>')
        assert "JSON body" in " ".join(problems_on(page, "id", set()))
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("width", [800, 1366])
def test_the_kiosk_screen_in_one_language(unit: Unit, browser: object, artifacts_dir: Path, lang: str, width: int) -> None:
    from playwright.sync_api import expect

    height = 480 if width == 800 else 768
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()  # type: ignore[attr-defined]
    data = words_of("Dinas Kominfo Lobi Siti Rahmawati", unit.ctx.tls_fingerprint or "")
    try:
        page.goto(f"{unit.screen.url}/?lang={lang}")
        page.wait_for_selector("body[data-ready='1']", state="attached")
        expect(page.locator("#unit")).to_have_text("Dinas Kominfo — Lobi")
        expect(page.locator("#preview")).to_have_js_property("naturalWidth", 640)
        assert problems_on(page, lang, data) == []
        unit.ctx.hub.publish(
            Decision(
                accepted=True,
                employee_id=OTHER,
                name="Siti Rahmawati",
                method="finger",
                kind="masuk",
                status="terlambat",
                minutes=12,
                instant=format_instant(unit.clock.now()),
                punch_id=f"walk-{lang}-{width}",
            )
        )
        expect(page.locator("#r-headline")).to_have_text("Terlambat 12 menit" if lang == "id" else "Late 12 min")
        assert problems_on(page, lang, data) == []
        if width == 800:
            shoot(page, f"kiosk-screen-{lang}.png", artifacts_dir)
            if lang == "id" and os.environ.get("PRESENSI_DOCS_IMAGES") == "1":
                docs_png(page, "kiosk-screen.png")
        unit.ctx.hub.publish(Decision(accepted=False, reason="unknown_card", punch_id=None))
        expect(page.locator("#r-headline")).to_have_text(i18n.text("screen.reason.unknown_card", lang))
        assert problems_on(page, lang, data) == []
    finally:
        page.context.close()


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("width", [800, 1366])
def test_every_server_page_in_one_language(server: Server, browser: object, artifacts_dir: Path, lang: str, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    data = words_of(
        "Presensi Kabupaten Jember Dinas Komunikasi dan Informatika DISKOMINFO Budi Santoso Citra Lestari Pranata Komputer "
        "Analis Lobi Kominfo admin.kominfo bkpsdm.ani surat.pdf Apel Senin Alun-alun APEL-2026-11-02",
        server.device_id,
    )
    bad: dict[str, list[str]] = {}
    try:
        page.goto(f"{server.url}/kantor/bahasa/{lang}?next=/kantor/masuk")
        if found := problems_on(page, lang, data):
            bad["/kantor/masuk"] = found
        page.fill("input[name=name]", "bkpsdm.ani")
        page.fill("input[name=password]", "kata-sandi-bkpsdm-1")
        page.click("#login")
        page.wait_for_selector("#who")
        for path in (
            "/kantor?office=DISKOMINFO&day=2026-11-03",
            "/kantor?office=DISKOMINFO&day=2026-11-04",
            "/kantor/keterangan",
            "/kantor/rekap?office=DISKOMINFO&month=2026-11",
            f"/kantor/riwayat/{OTHER}/2026-11-03",
            "/",
            f"/devices/{server.device_id}",
            "/events",
            f"/events/{server.event_id}",
        ):
            response = page.goto(f"{server.url}{path}")
            assert response is not None and response.status == 200, path
            if path.startswith("/events/"):  # the list itself, not a problem with the pack
                assert page.locator("#rows tr").count() == 3, page.inner_text("body")
            if found := problems_on(page, lang, data):
                bad[path] = found
            if width == 1366 and path.startswith(("/kantor?office=DISKOMINFO&day=2026-11-03", "/devices/")):
                name = "server-kantor" if path.startswith("/kantor") else "server-device"
                shoot(page, f"{name}-{lang}.png", artifacts_dir, docs=lang == "id")
    finally:
        context.close()
    assert bad == {}, f"{lang} at {width} px: {bad}"
