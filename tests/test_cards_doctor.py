"""Doctor checks of the card reader, card policies and GPIO."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from core import health
from core.config import parse_config
from core.runtime import Runtime
from kiosk.checks.cards import card_policy, card_reader, gpio_feedback
from kiosk.checks.findings import Status


def runtime(tmp_path: Path, toml: str) -> Runtime:
    return Runtime(config=parse_config(toml), data_dir=tmp_path)


def test_no_reader_is_fine(tmp_path: Path) -> None:
    [finding] = card_reader(runtime(tmp_path, ""))
    assert finding.status is Status.OK and "none" in finding.detail


def test_missing_serial_node_fails_with_what_to_do(tmp_path: Path) -> None:
    rt = runtime(tmp_path, f'[cards]\nreader = "serial"\ndevice = "{tmp_path}/ttyUSB9"\n')
    finding = card_reader(rt)[0]
    assert finding.status is Status.FAIL and "missing" in finding.detail and "USB cable" in finding.todo


def test_present_pty_node_is_ok_and_the_services_last_health_is_shown(tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        rt = runtime(tmp_path, f'[cards]\nreader = "serial"\ndevice = "{os.ttyname(slave)}"\n')
        conn = rt.connect()
        health.report(conn, "card_reader", health.Health.FAIL, "RDM6300 is not available", now=datetime(2026, 11, 23, tzinfo=UTC))
        conn.close()
        findings = card_reader(rt)
    finally:
        os.close(master)
        os.close(slave)
    assert findings[0].status is Status.OK
    assert findings[1].status is Status.FAIL and "not available" in findings[1].detail


def test_card_then_face_without_face_fails(tmp_path: Path) -> None:
    rt = runtime(tmp_path, '[cards]\nreader = "sim"\npolicy = "card_face"\n[face]\nenabled = false\n')
    assert card_policy(rt)[0].status is Status.FAIL


def test_employees_without_cards_and_unknown_policies_are_warned(tmp_path: Path) -> None:
    rt = runtime(tmp_path, '[cards]\nreader = "sim"\n')
    conn = rt.connect()
    conn.execute("INSERT INTO employees (id, name, card_policy, updated_at) VALUES ('A', 'Ani', 'kartu', 'x')")
    conn.execute("INSERT INTO employees (id, name, updated_at) VALUES ('B', 'Beni', 'x')")
    conn.close()
    details = [f.detail for f in card_policy(rt)]
    assert any("unknown card_policy" in d for d in details)
    assert any("no card registered" in d for d in details)


def test_card_employees_with_no_reader_are_warned(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "")
    conn = rt.connect()
    conn.execute("INSERT INTO employees (id, name, card_policy, updated_at) VALUES ('A', 'Ani', 'card', 'x')")
    conn.close()
    [finding] = card_policy(rt)
    assert finding.status is Status.WARN and "no card reader" in finding.detail


def test_gpio_checks(tmp_path: Path) -> None:
    assert gpio_feedback(runtime(tmp_path, ""))[0].status is Status.OK
    assert gpio_feedback(runtime(tmp_path, "[gpio]\nenabled = true\n"))[0].status is Status.WARN
    mock = gpio_feedback(runtime(tmp_path, '[gpio]\nenabled = true\nbackend = "mock"\ngreen_led = 17\n'))[0]
    assert mock.status is Status.OK and "17" in mock.detail
