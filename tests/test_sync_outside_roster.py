"""Punches of people outside a unit's roster are flagged on the server (issue 22, "Also" of finding 5).

A unit receives only its office's people, but a hostile or stale unit can still upload punches for
any NIP. The server keeps every signed punch (nothing is lost), and marks those whose employee was
not in the device's scope when they arrived: not of its office, not added to it, removed, or
unknown. The device list, the device page and ``presensi server devices`` show them."""

from __future__ import annotations

import html
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers.sync_support import unit_runtime

from core.store.punches import PunchRequest
from kiosk.demo.server import ServerProcess
from sync.provision import provision
from sync.service import run_once

OWN = "198503302010011001"  # DISKOMINFO: the unit's office
ADDED = "199107072019031007"  # BAPPEDA, added to the unit by name (an event team, a mutation in progress)
OTHER = "199001012015011002"  # BAPPEDA: another office's employee
REMOVED = "197805052005012003"  # DISKOMINFO, removed from the roster
UNKNOWN = "123456789012345678"  # no such employee


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    with ServerProcess(tmp_path / "server", database_url=url) as running:
        admin = running.admin()
        admin.roster.add_unit("DISKOMINFO", "Dinas Kominfo")
        admin.roster.add_unit("BAPPEDA", "Bappeda")
        admin.roster.add_employee(OWN, "Siti", unit_code="DISKOMINFO")
        admin.roster.add_employee(REMOVED, "Budi", unit_code="DISKOMINFO")
        admin.roster.add_employee(OTHER, "Rina", unit_code="BAPPEDA")
        admin.roster.add_employee(ADDED, "Andi", unit_code="BAPPEDA")
        admin.roster.publish()
        yield running


def test_punches_of_people_outside_the_roster_are_kept_and_flagged(server: ServerProcess, tmp_path: Path) -> None:
    admin = server.admin()
    unit = unit_runtime(tmp_path / "unit")
    provision(unit, server.url, admin.issue_token("DISKOMINFO"), server.ca_file)
    device_id = unit.identity().device_id
    admin.roster.add_members(device_id, [ADDED], "tim senam")
    admin.roster.remove_employee(REMOVED)
    admin.roster.publish()

    store = unit.store()
    for employee in (OWN, ADDED, OTHER, OTHER, REMOVED, UNKNOWN):
        store.record(PunchRequest(employee, "card"))
    result = run_once(unit)
    assert result["ok"] and result["acked_seq"] == 6 and result["pending"] == 0

    with admin.storage.tx(write=False) as tx:
        stored = [
            r["employee_id"] for r in tx.all("SELECT employee_id FROM punches WHERE device_id = ? ORDER BY seq", (device_id,))
        ]
    assert stored == [OWN, ADDED, OTHER, OTHER, REMOVED, UNKNOWN]  # nothing lost
    (device,) = [d for d in admin.devices() if d["id"] == device_id]
    assert device["outside_roster"] == 4
    flagged = {r["employee_id"]: r["punches"] for r in admin.ledger.outside_roster(device_id)}
    assert flagged == {OTHER: 2, REMOVED: 1, UNKNOWN: 1}

    # a later upload flags only its own punches, once
    store.record(PunchRequest(OWN, "card"))
    assert run_once(unit)["acked_seq"] == 7
    assert next(d for d in admin.devices() if d["id"] == device_id)["outside_roster"] == 4

    tls = ssl.create_default_context(cafile=str(server.ca_file))
    page = httpx.get(f"{server.url}/devices/{device_id}", verify=tls, timeout=60)
    listed = html.unescape(page.text.split('id="outside-list"', 1)[1].split("</table>", 1)[0])
    assert OTHER in listed and REMOVED in listed and UNKNOWN in listed
    assert OWN not in listed and ADDED not in listed
    front = httpx.get(f"{server.url}/", verify=tls, timeout=60).text
    assert f'href="/devices/{device_id}#outside-roster">4</a>' in front

    listing = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "server", "devices", "--server-config", str(server.config_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "OUTSIDE ROSTER: 4 punches" in listing
