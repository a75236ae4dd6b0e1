"""The server's pages and admin API open only from the admin networks (issue 22, finding 6): they
list NIPs, punch times and devices, and used to answer anyone who reached the port. The units'
signed /v1 API stays open. A real server over TLS on 127.0.0.1."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.sync_support import unit_runtime

from core.errors import ConfigError
from core.i18n import LANG_COOKIE
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.server.config import load_server_config
from sync.service import run_once

PAGES = ["/", "/events", "/admin/events"]


@pytest.fixture
def closed(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server whose admin network does not include this machine (as seen from another office)."""
    with ServerProcess(tmp_path / "server", extra_config='admin_networks = ["10.20.30.0/24"]') as running:
        yield running


def client(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, verify=ssl.create_default_context(cafile=str(server.ca_file)), timeout=60)


def test_pages_are_refused_outside_the_admin_networks_while_units_sync(closed: ServerProcess, tmp_path: Path) -> None:
    unit = unit_runtime(tmp_path / "unit")
    provision(unit, closed.url, closed.admin().issue_token("DISKOMINFO"), closed.ca_file)  # /v1: open
    assert run_once(unit)["ok"]
    device = unit.identity().device_id
    with client(closed) as http:
        assert http.get("/healthz").status_code == 200
        for path in [*PAGES, f"/devices/{device}"]:
            response = http.get(path)
            assert response.status_code == 403, path
            assert "admin_networks" in response.text and device not in response.text
            assert "hanya dapat dibuka" in response.text and "The admin pages" not in response.text
        english = http.get("/", cookies={LANG_COOKIE: "en"})
        assert english.status_code == 403 and "The admin pages open only" in english.text
        assert "hanya dapat dibuka" not in english.text


def test_pages_open_from_this_machine_by_default(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as running, client(running) as http:
        for path in PAGES:
            assert http.get(path).status_code == 200, path


def test_a_mistyped_network_is_a_clear_config_error(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('admin_networks = ["10.20.30.0/33"]\n')
    with pytest.raises(ConfigError) as refused:
        load_server_config(path)
    assert any("is not a network" in p for p in refused.value.problems)


def test_an_ipv4_client_of_a_dual_stack_socket_is_judged_by_its_ipv4_address() -> None:
    """Review: with host = "::" IPv4 clients arrive as ::ffff:a.b.c.d, which no IPv4 network contains."""
    from types import SimpleNamespace

    from sync.server.app import _from_networks

    networks = admin_networks_of(["127.0.0.0/8", "10.20.30.0/24"])
    for host, allowed in (("::ffff:127.0.0.1", True), ("::ffff:10.20.30.5", True), ("::ffff:10.9.9.9", False), ("::1", False)):
        request = SimpleNamespace(client=SimpleNamespace(host=host))
        assert _from_networks(request, networks, set()) is allowed, host  # type: ignore[arg-type]


def admin_networks_of(networks: list[str]) -> list[object]:
    import ipaddress

    return [ipaddress.ip_network(n) for n in networks]


def test_behind_a_named_proxy_the_forwarded_client_is_judged(tmp_path: Path) -> None:
    """Review: uvicorn trusted X-Forwarded-For from 127.0.0.1 by default, and a local proxy that
    does not send it made every client look like this machine. Now only the proxies named are
    believed, and a request through them that does not say for whom is refused the pages."""
    config = 'admin_networks = ["127.0.0.0/8", "10.20.30.0/24"]\ntrusted_proxies = ["127.0.0.1"]'  # open_pages: the demo default
    with ServerProcess(tmp_path / "server", extra_config=config) as running, client(running) as http:
        assert http.get("/").status_code == 403  # through the "proxy" (127.0.0.1), no X-Forwarded-For
        assert http.get("/", headers={"X-Forwarded-For": "10.20.30.5"}).status_code == 200  # the BKPSDM network
        assert http.get("/", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403  # the internet
        assert http.get("/healthz").status_code == 200
