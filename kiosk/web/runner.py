"""Starting the kiosk screen and the maintenance page for a unit (``presensi web``, the kiosk
service and the demo call :func:`start_web`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core.runtime import Runtime
from core.store.accounts import Accounts
from kiosk.doctor import run_checks
from kiosk.privileged.client import HelperSystemActions
from kiosk.web.app import create_maintenance_app, create_screen_app
from kiosk.web.context import WebContext
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.maintenance.fingers import finger_enrolment
from kiosk.web.ports import DecisionHub, FrameSource, Services
from kiosk.web.server import Running, serve_in_thread
from kiosk.web.sources.export import PunchExporter
from kiosk.web.sources.hostinfo import HostInfo
from kiosk.web.tls import ensure_certificate

log = logging.getLogger(__name__)


@dataclass
class WebRunning:
    ctx: WebContext
    screen: Running
    maintenance: Running

    @property
    def setup_code(self) -> str | None:
        return Accounts(self.ctx.db.get(), self.ctx.clock).setup_code()

    def alive(self) -> bool:
        """Both servers' threads are running (for the service's watchdog)."""
        return self.screen.thread.is_alive() and self.maintenance.thread.is_alive()

    def stop(self) -> None:
        self.ctx.stopping.set()
        self.screen.stop()
        self.maintenance.stop()
        self.ctx.db.close_all()


def lan_addresses(host: HostInfo) -> list[str]:
    return [a.split("/")[0] for i in host.interfaces() for a in i.addresses]


def reachable_host(bind: str, addresses: list[str]) -> str:
    """The address to show people for a server bound to ``bind``: the bound address itself, or
    for a wildcard bind the unit's first LAN address (never one the server does not listen on)."""
    if bind in ("", "0.0.0.0", "::"):  # noqa: S104 - recognising a wildcard bind, not binding
        return addresses[0] if addresses else "127.0.0.1"
    return bind


def start_web(
    runtime: Runtime,
    *,
    services: Services | None = None,
    hub: DecisionHub | None = None,
    frames: FrameSource | None = None,
    screen_port: int | None = None,
    maintenance_port: int | None = None,
) -> WebRunning:
    """Both servers, listening, for ``runtime``'s unit; the certificate is made on first start."""
    config = runtime.config
    web = config.web
    host = HostInfo()
    addresses = lan_addresses(host)
    tls = ensure_certificate(runtime.data_dir / "tls", now=runtime.clock.now(), hostnames=web.tls_hostnames, addresses=addresses)
    if services is None:
        system = SimSystemActions(tuple(web.services)) if config.unit.hardware == "sim" else HelperSystemActions(web.services)
        services = Services(system=system, fingers=finger_enrolment(runtime))
    identity = runtime.identity()
    port = maintenance_port if maintenance_port is not None else web.maintenance_port
    shown_host = reachable_host(web.maintenance_host, addresses)
    ctx = WebContext(
        config=config,
        connect=runtime.connect,
        services=services,
        clock=runtime.clock,
        data_dir=runtime.data_dir,
        clock_state=runtime.clock_state(),
        hub=hub or DecisionHub(),
        frames=frames,
        host=host,
        doctor=lambda: run_checks(runtime),
        config_path=config.source,
        tls_fingerprint=tls.fingerprint,
        device_id=identity.device_id,
        exporter=PunchExporter(
            runtime.connect, identity, runtime.clock, config.unit.zone, corrections=config.sync.bundle_corrections
        ),
    )
    maintenance = serve_in_thread(
        create_maintenance_app(ctx), web.maintenance_host, port, certfile=tls.cert, keyfile=tls.key, name="maintenance"
    )
    ctx.maintenance_url = f"https://{f'[{shown_host}]' if ':' in shown_host else shown_host}:{maintenance.port}"
    screen = serve_in_thread(
        create_screen_app(ctx), web.screen_host, screen_port if screen_port is not None else web.screen_port, name="screen"
    )
    log.info("kiosk screen on %s, maintenance page on %s", screen.url, ctx.maintenance_url)
    return WebRunning(ctx, screen, maintenance)
