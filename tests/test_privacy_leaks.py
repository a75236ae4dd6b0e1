"""No leaks (issue 12): the face pipeline on the shared photos, a sync round with the reference
server, the fingerprint bridge, the exports and every maintenance page, with every logger at
DEBUG; then every log line, health and doctor report, export file and page body is scanned for
encodings, template bytes (raw or sealed, in hex or base64) and image data. None may be found.

The scanner is tested first on planted leaks, so a scanner that finds nothing cannot pass."""

from __future__ import annotations

import base64
import gzip
import io
import json
import logging
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from helpers.face_data import detector, faces, image

from core.clock import SystemClock
from core.config import KioskConfig
from core.health import read_all
from core.runtime import Runtime
from core.store.finger_templates import FingerDB
from core.store.punches import PunchRequest
from core.templates import face as templates
from firmware_bridge import simfinger
from firmware_bridge.factory import seed_sim_template, sim_finger_name, start_simulated_bridge
from firmware_bridge.zhiantec.simulator import TEMPLATE
from kiosk.camera.sim import SimCamera
from kiosk.demo.server import provision_and_sync, start_demo_server
from kiosk.doctor import run_checks
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.enroll import Enroller
from kiosk.face.pipeline import SkipLiveness
from kiosk.face.service import FaceService
from kiosk.web.app import create_maintenance_app
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.ports import Services
from kiosk.web.sources.export import PunchExporter
from kiosk.web.sources.netprobe import ServerProbe
from sync.health import build_report
from sync.service import run_once

PASSWORD = "sandi-yang-kuat-1"
OBAMA, ALEX = "196108041990031001", "197906152005011002"

# -- the scanner ------------------------------------------------------------------------------

_FLOAT = r"[-+]?(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?"
FLOAT_RUN = re.compile(rf"(?:{_FLOAT}[\s,;\[\]()]+){{15}}{_FLOAT}")
NUMPY_REPR = re.compile(r"array\(\[|dtype=float32|np\.float32\(|float32\)")
BYTES_REPR = re.compile(r"(?:\\x[0-9a-fA-F]{2}){8,}")
HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")
B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}")
IMAGE_TEXT = ("data:image", "/9j/4", "/9j/2w", "iVBORw0KGgo")
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
HEX_WINDOW, B64_WINDOW, RAW_WINDOW = 32, 24, 16


class LeakScanner:
    """Finds biometric data in text and files: encodings printed as numbers or numpy reprs, any
    16-byte stretch of the given template blobs as raw bytes, hex or base64 (any alignment), and
    image data. Reports where and what kind, never the data itself."""

    def __init__(self, blobs: list[bytes]) -> None:
        self.hex: set[str] = set()
        self.b64: set[str] = set()
        self.raw: set[bytes] = set()
        for blob in blobs:
            h = blob.hex()
            self.hex.update(h[i : i + HEX_WINDOW] for i in range(0, len(h) - HEX_WINDOW + 1, 2))
            self.raw.update(blob[i : i + RAW_WINDOW] for i in range(len(blob) - RAW_WINDOW + 1))
            for offset in range(3):
                for encode in (base64.b64encode, base64.urlsafe_b64encode):
                    e = encode(blob[offset:]).decode().rstrip("=")
                    self.b64.update(e[i : i + B64_WINDOW] for i in range(0, len(e) - B64_WINDOW + 1, 4))

    def text(self, text: str, where: str) -> list[str]:
        found = []
        if FLOAT_RUN.search(text):
            found.append(f"{where}: a run of 16+ numbers (an encoding?)")
        if NUMPY_REPR.search(text):
            found.append(f"{where}: a numpy array repr")
        if BYTES_REPR.search(text):
            found.append(f"{where}: a bytes repr")
        for run in HEX_RUN.findall(text):
            low = run.lower()
            if any(low[i : i + HEX_WINDOW] in self.hex for i in range(len(low) - HEX_WINDOW + 1)):
                found.append(f"{where}: template bytes in hex")
                break
        for run in B64_RUN.findall(text):
            if any(run[i : i + B64_WINDOW] in self.b64 for i in range(len(run) - B64_WINDOW + 1)):
                found.append(f"{where}: template bytes in base64")
                break
        found += [f"{where}: image data ({marker})" for marker in IMAGE_TEXT if marker in text]
        return found

    def data(self, data: bytes, where: str) -> list[str]:
        """A file: its members if it is an archive, raw windows and magic numbers, then its text."""
        found = []
        for name, member in _members(data):
            found += self.data(member, f"{where}!{name}")
        if any(data[i : i + RAW_WINDOW] in self.raw for i in range(len(data) - RAW_WINDOW + 1)):
            found.append(f"{where}: raw template bytes")
        found += [f"{where}: image data (magic {magic!r})" for magic in IMAGE_MAGIC if magic in data]
        return found + self.text(data.decode("utf-8", errors="replace"), where)


def _members(data: bytes) -> Iterator[tuple[str, bytes]]:
    if data[:2] == b"\x1f\x8b":
        yield "gunzip", gzip.decompress(data)
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in archive.namelist():
                yield name, archive.read(name)
    elif len(data) > 262 and data[257:262] == b"ustar":
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            for member in archive.getmembers():
                extracted = archive.extractfile(member)
                if extracted is not None:
                    yield member.name, extracted.read()


def test_the_scanner_finds_planted_leaks() -> None:
    encoding = np.linspace(-0.25, 0.25, 128, dtype=np.float32)
    sealed = bytes(range(7, 250)) * 3
    scanner = LeakScanner([encoding.tobytes(), sealed])
    clean = "2026-11-23 07:00:01 INFO kiosk.face: punched 196108041990031001 (distance 0.41, 12.5 ms) hash 9f86d081884c7d65"
    assert scanner.text(clean, "clean") == []
    planted = {
        "a list": f"encoding {encoding.tolist()}",
        "a repr": f"got {encoding!r}",
        "printed": " ".join(f"{v:.4f}" for v in encoding[:20]),
        "hex": f"template={sealed[100:140].hex()}",
        "HEX": f"template={sealed[3:40].hex().upper()}",
        "base64": f"tpl: {base64.b64encode(b'xy' + sealed[50:90]).decode()}",
        "urlsafe": f"tpl: {base64.urlsafe_b64encode(encoding.tobytes()[1:60]).decode()}",
        "bytes repr": repr(sealed[:30]),
        "jpeg": "<img src='data:image/jpeg;base64,/9j/4AAQSkZJRg'>",
    }
    for name, text in planted.items():
        assert scanner.text(text, name), f"the scanner missed {name}"
    assert scanner.data(b"head" + sealed[20:60] + b"tail", "file")
    assert scanner.data(b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner.json", json.dumps({"t": base64.b64encode(sealed).decode()}))
    assert any("inner.json" in f for f in scanner.data(archive.getvalue(), "zip"))
    assert scanner.data(gzip.compress(encoding.tobytes()), "gz")


# -- the run ----------------------------------------------------------------------------------


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def every_logger_at_debug() -> Iterator[Captured]:
    handler = Captured()
    root = logging.getLogger()
    loggers = [root, *(lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger))]
    saved = [(lg, lg.level, lg.propagate, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.propagate = lg is not root
        lg.disabled = False
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for lg, level, propagate, disabled in saved:
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


def unit(path: Path) -> Runtime:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.clock.state = "synced"
    config.privacy.key_provider, config.privacy.sim_otp_hex = "sim", "7c" * 32
    config.fingerprint.module, config.fingerprint.poll_ms, config.fingerprint.timeout_s = "sim", 10, 0.3
    config.sync.backoff_base_s, config.sync.backoff_max_s, config.sync.timeout_s = 0.01, 0.05, 10
    config.web.usb_root = path.parent / "media"
    config.web.log_file = path.parent / "presensi.log"
    return Runtime(config=config, data_dir=path, clock=SystemClock())


def sim_template(employee_id: str, finger: int) -> bytes:
    """What the simulated module makes of that finger (as the server would have it from an enrolment)."""
    name = sim_finger_name(employee_id, finger)
    return TEMPLATE.pack(simfinger.combine(simfinger.capture(name, 1000), simfinger.capture(name, 1001)))


def login(client: TestClient) -> str:
    def csrf(html: str) -> str:
        m = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
        assert m, "no CSRF token in the page"
        return m.group(1)

    page = client.get("/login")
    r = client.post(
        "/login", data={"csrf_token": csrf(page.text), "username": "kepala", "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return csrf(client.get("/").text)


def test_no_template_encoding_or_image_leaves_through_logs_reports_exports_or_pages(
    tmp_path: Path, faces_dir: Path, every_logger_at_debug: Captured
) -> None:
    logs = every_logger_at_debug
    rt = unit(tmp_path / "unit")
    rt.config.web.log_file.write_text("")  # type: ignore[union-attr]
    (tmp_path / "media").mkdir()

    # The server holds Obama's face (from a photo) and a finger; the unit pulls them.
    server, token = start_demo_server(tmp_path / "server", in_process=True)
    try:
        admin = server.admin()
        server_face = faces(faces_dir / "train" / "obama" / "obama.jpg")[0].encoding.astype("<f4").tobytes()
        server_finger = sim_template(OBAMA, 2)
        admin.roster.add_employee(OBAMA, "Barack Obama", unit_code="DEMO")
        admin.roster.set_faces(OBAMA, [server_face])
        admin.roster.add_finger(OBAMA, 2, "zhiantec", server_finger)
        admin.roster.publish()
        admin.storage.close()
        first = provision_and_sync(rt, server, token)
        assert first["ok"] and first["roster_version"] >= 2, first

        # The face pipeline: a local enrolment, then Obama (from the roster) punches by face.
        store = rt.store()
        Enroller(store.conn, rt.config.face, rt.clock, detector=detector()).enrol_photos(
            ALEX, "Alex Lacamoire", sorted((faces_dir / "train" / "alex_lacamoire").iterdir())[:1]
        )
        seed_sim_template(store.conn, ALEX, now=rt.clock.now())
        camera = SimCamera(rt.clock, width=800, height=600, fps=10)
        service = FaceService(rt.config, store, camera, SkipLiveness("test"), rt.clock, health_interval_s=0.2)
        decided = threading.Event()
        decisions: list[FaceAttempt] = []
        service.subscribe(lambda d: (decisions.append(d), decided.set()))
        camera.show(image(faces_dir / "obama-720p.jpg"))
        with service:
            assert decided.wait(60), f"no decision; last error {service.last_error}"
        assert decisions[0].outcome is Outcome.ACCEPTED and decisions[0].employee_id == OBAMA

        # The bridge writes both finger templates to its (simulated) module.
        bridge = start_simulated_bridge(rt, pace=False)
        try:
            assert bridge.simulator.wait_for(lambda: len(bridge.simulator.library) == 2, 15)
            module_templates = list(bridge.simulator.library.values())
        finally:
            bridge.stop()

        second = run_once(rt)  # the punch up, the heartbeat, the roster again
        assert second["ok"] and second["acked_seq"] == 1, second
    finally:
        server.stop()
    store.record(PunchRequest(ALEX, "card"))  # one punch not yet sent: the 'unsent' bundle has it

    # Every template made in this test, sealed and unsealed.
    conn = rt.connect()
    sealer = rt.template_key.sealer()
    blobs = [server_face, server_finger, *module_templates]
    for row in conn.execute("SELECT employee_id, encoding, scheme FROM face_templates"):
        assert row["scheme"] == "aesgcm-v1"
        blobs += [
            bytes(row["encoding"]),
            templates.unseal(row["encoding"], row["scheme"], employee_id=row["employee_id"], sealer=sealer).tobytes(),
        ]
    fingers = FingerDB(conn, sealer=sealer)
    for row in conn.execute("SELECT id, template, scheme FROM finger_templates"):
        assert row["scheme"] == "aesgcm-v1"
        blobs += [bytes(row["template"]), fingers.template_bytes(row["id"])]
    assert len(blobs) == 4 + 2 * 2 + 2 * 2
    scanner = LeakScanner(blobs)

    # The maintenance page, logged in as the first account (every role), with real logs to show.
    rt.config.web.log_file.write_text("\n".join(logs.lines) + "\n")  # type: ignore[union-attr]
    ctx = WebContext(
        config=rt.config,
        connect=rt.connect,
        services=Services(system=SimSystemActions()),
        clock=rt.clock,
        data_dir=rt.data_dir,
        doctor=lambda: run_checks(rt),
        device_id=store.identity.device_id,
        exporter=PunchExporter(rt.connect, store.identity, rt.clock, rt.config.unit.zone),
        probe=ServerProbe("").run,
        watch_punches=False,
    )
    accounts = ctx.accounts()
    code = accounts.setup_code()
    assert code
    accounts.create_first(code, "kepala", PASSWORD, "127.0.0.1")
    app = create_maintenance_app(ctx)
    client = TestClient(app, base_url="https://testserver")
    csrf = login(client)
    bodies: dict[str, bytes] = {}
    exported: list[str] = []
    assert ctx.exporter is not None
    for fmt in ctx.exporter.formats():
        r = client.post("/export", data={"csrf_token": csrf, "fmt": fmt, "target": "download"})
        assert r.status_code == 200, (fmt, r.status_code)
        bodies[f"POST /export {fmt}"] = r.content
        name = re.search(r'id="download" href="/export/files/([^"]+)"', r.text)
        assert name, f"no {fmt} export made"
        exported.append(name.group(1))
    assert any(n.endswith(".csv") for n in exported)
    r = client.post("/report", data={"csrf_token": csrf, "date": "2026-11-23", "kind": "lainnya", "description": "uji"})
    bodies["POST /report"] = r.content
    bodies["POST /api/diagnostics"] = client.post("/api/diagnostics", headers={"x-csrf-token": csrf}).content
    values = {"employee_id": [OBAMA, ALEX], "name": exported, "code": ["id", "en"], "username": ["kepala"]}
    for route in iter_route_contexts(app.routes):  # the routes of the included routers too
        if not isinstance(route.original_route, APIRoute) or "GET" not in (route.methods or ()):
            continue
        paths = [route.path]
        for param, options in values.items():
            paths = [p.replace(f"{{{param}}}", v) for p in paths for v in options] if f"{{{param}}}" in route.path else paths
        for path in paths:
            r = client.get(path)
            assert r.status_code < 500, (path, r.status_code)
            bodies[f"GET {path}"] = r.content
    for query in (
        "/api/punches?limit=500",
        "/api/logs?limit=1000",
        "/api/audit?limit=500",
        f"/api/fingers/enrolment?employee_id={OBAMA}",
    ):
        bodies[f"GET {query}"] = client.get(query).content
    export_dir = ctx.export_dir
    ctx.db.close_all()
    assert len(bodies) > 25

    reports = {
        "health": json.dumps([asdict(p) for p in read_all(conn)], default=str),
        "doctor": json.dumps([asdict(f) for f in run_checks(rt)], default=str),
        "heartbeat": json.dumps(build_report(conn, rt.data_dir, rt.clock_state(conn), rt.clock.now()), default=str),
        "audit": json.dumps([dict(r) for r in conn.execute("SELECT * FROM audit_log")]),
    }
    conn.close()
    # What leaves the unit as files: the exports and the logs (not the database, whose templates
    # are sealed, nor fingerprint-sim.json, the simulated module's own flash memory).
    files = [p for p in export_dir.rglob("*") if p.is_file()] + [p for p in tmp_path.rglob("*.log") if p.is_file()]
    assert any(p.suffix == ".csv" for p in files), files

    found: list[str] = []
    assert len(logs.lines) > 100, "the run logged too little for the scan to mean anything"
    for n, line in enumerate(logs.lines):
        found += scanner.text(line, f"log line {n}")
    for name, text in reports.items():
        found += scanner.text(text, name)
    for name, body in bodies.items():
        found += scanner.data(body, name)
    for path in files:
        found += scanner.data(path.read_bytes(), str(path.relative_to(tmp_path)))
    assert found == [], "\n".join(found[:40])
