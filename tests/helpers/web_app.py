"""The maintenance app in process for the route tests: a simulated unit's WebContext over a
fake /sys and /proc, its accounts, a TLS test client, logging in with the page's CSRF token."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.clock import FakeClock
from core.config import KioskConfig
from core.store.accounts import Role
from core.store.db import open_database
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.ports import Services, TapCapture
from kiosk.web.sources.hostinfo import HostInfo
from kiosk.web.sources.netprobe import ServerProbe

PASSWORD = "sandi-yang-kuat-1"


def fake_host(root: Path, *, address: str = "192.168.10.20/24", gateway_hex: str = "010AA8C0") -> HostInfo:
    """A /sys and /proc tree: one wired interface, a thermal zone, uptime, rpi_volt, route."""
    net = root / "sys/class/net/eth0"
    net.mkdir(parents=True)
    (net / "operstate").write_text("up\n")
    (net / "carrier").write_text("1\n")
    zone = root / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("51234\n")
    mon = root / "sys/class/hwmon/hwmon0"
    mon.mkdir(parents=True)
    (mon / "name").write_text("rpi_volt\n")
    (mon / "in0_lcrit_alarm").write_text("0\n")
    (root / "proc/net").mkdir(parents=True)
    (root / "proc/uptime").write_text("93784.12 1000.0\n")
    (root / "proc/net/route").write_text(
        "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\n"
        f"eth0\t00000000\t{gateway_hex}\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
    )
    return HostInfo(root / "sys", root / "proc", addresses={"eth0": [address]})


def make_ctx(tmp_path: Path, clock: FakeClock, **overrides: object) -> WebContext:
    config = KioskConfig()
    config.unit.hardware = "sim"
    config.web.usb_root = tmp_path / "media"
    config.web.log_file = tmp_path / "presensi.log"
    (tmp_path / "media" / "FLASHDISK").mkdir(parents=True)
    (tmp_path / "presensi.log").write_text(
        "2026-11-23 07:00:01,000 INFO kiosk.cards: reader ready\n2026-11-23 07:00:02,000 ERROR kiosk.camera: no frames from /dev/video0\n"
    )
    options: dict[str, object] = {
        "data_dir": tmp_path,
        "host": fake_host(tmp_path / "host"),
        "probe": ServerProbe("").run,
        "device_id": "PK-TESTUNIT0001",
        "watch_punches": False,
    }
    options.update(overrides)
    return WebContext(
        config=config,
        connect=lambda: open_database(tmp_path / "presensi.db"),
        services=Services(cards=TapCapture(), system=SimSystemActions()),
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html) or re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    page = client.get("/login")
    r = client.post(
        "/login", data={"csrf_token": csrf_of(page.text), "username": username, "password": password}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


def with_accounts(context: WebContext) -> WebContext:
    """The first account (kepala, both roles) from the setup code, a technician and an Admin PD."""
    accounts = context.accounts()
    code = accounts.setup_code()
    assert code
    accounts.create_first(code, "kepala", PASSWORD, "127.0.0.1")
    accounts.create("teknisi", PASSWORD, [Role.TECHNICIAN], by="kepala")
    accounts.create("adminpd", PASSWORD, [Role.ADMIN], by="kepala")
    return context


def client_for(app: FastAPI) -> TestClient:
    return TestClient(app, base_url="https://testserver")
