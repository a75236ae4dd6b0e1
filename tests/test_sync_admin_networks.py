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

from kiosk.errors import ConfigError
from sync.demo import ServerProcess
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
