"""Doctor checks of the card reader, the card policies and the GPIO feedback outputs.

They never take the reader away from a running kiosk: PC/SC is only asked for its reader list,
keyboard and serial readers are checked by their device nodes, and GPIO by its pin factory.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from core import health
from core.errors import PresensiError
from core.runtime import Runtime
from core.store.cards import CardPolicy, count_card_users, count_card_users_without_card, count_cards, count_unknown_policies
from kiosk.checks.findings import Finding, Status, check

PART = "card reader"


@check
def card_reader(rt: Runtime) -> list[Finding]:
    cfg = rt.config.cards
    if cfg.reader == "none":
        return [Finding(PART, Status.OK, "no card reader configured (cards.reader = 'none')")]
    if cfg.reader == "sim" or rt.config.unit.hardware == "sim":
        findings = [Finding(PART, Status.OK, "simulated reader")]
    elif cfg.reader == "pcsc":
        findings = [_pcsc(cfg.device)]
    else:
        findings = [_node(cfg.reader, cfg.device)]
    findings += _last_health(rt)
    return findings


def _pcsc(device: str) -> Finding:
    # late: a reader's library loads only when its reader is configured
    from kiosk.cards.pcsc import PcscReader

    reader = PcscReader(device)
    try:
        reader.open()
    except PresensiError as exc:
        return Finding(PART, Status.FAIL, str(exc), "plug the reader in and check `pcsc_scan`; start pcscd.socket")
    name = reader.reader
    reader.close()
    return Finding(PART, Status.OK, f"PC/SC reader {name!r} present")


def _node(kind: str, device: str) -> Finding:
    if not device:
        return Finding(PART, Status.FAIL, f"cards.device is empty for a {kind} reader", "set cards.device (see docs/cards.md)")
    if device.startswith("name:"):
        try:
            # late: a reader's library loads only when its reader is configured
            from kiosk.cards.hid import find_device

            device = find_device(device)
        except (PresensiError, ImportError) as exc:
            return Finding(PART, Status.FAIL, str(exc), "plug the reader in, or fix cards.device")
    node = Path(device)
    if not node.exists():
        return Finding(PART, Status.FAIL, f"{node} missing", "check the reader's USB cable and cards.device")
    if not os.access(node, os.R_OK | (os.W_OK if kind == "serial" else 0)):
        group = "dialout" if kind == "serial" else "input"
        return Finding(
            PART, Status.FAIL, f"{node} is not accessible to this user", f"add the service user to the '{group}' group"
        )
    return Finding(PART, Status.OK, f"{kind} reader at {node}")


def _last_health(rt: Runtime) -> list[Finding]:
    try:
        conn = rt.connect()
    except PresensiError:
        return []  # the database finding says why
    try:
        part = next((p for p in health.read_all(conn) if p.part == "card_reader"), None)
    finally:
        conn.close()
    if part is None:
        return []
    if part.status is health.Health.FAIL:
        return [
            Finding("card reader (service)", Status.FAIL, part.detail, "check the reader's cable; the kiosk reopens it by itself")
        ]
    gap = part.metrics.get("last_gap_s")
    detail = part.detail if gap is None else f"{part.detail}; {int(part.metrics.get('gaps', 0))} gap(s) since start"
    return [Finding("card reader (service)", Status.OK, detail)]


@check
def card_policy(rt: Runtime) -> list[Finding]:
    cards, face = rt.config.cards, rt.config.face
    findings: list[Finding] = []
    if cards.policy == CardPolicy.CARD_FACE.value and not face.enabled:
        findings.append(
            Finding(
                "card policy",
                Status.FAIL,
                "the unit's policy is card then face, but face.enabled is false: every card tap is refused",
                "enable face, or set cards.policy = 'card'",
            )
        )
    try:
        conn = rt.connect()
    except PresensiError:
        return findings
    try:
        findings += _policy_data(conn, CardPolicy(cards.policy), cards.reader != "none")
    finally:
        conn.close()
    return findings or [Finding("card policy", Status.OK, f"unit policy {cards.policy}")]


def _policy_data(conn: sqlite3.Connection, unit_policy: CardPolicy, has_reader: bool) -> list[Finding]:
    findings = []
    valid = tuple(p.value for p in CardPolicy)
    bad = count_unknown_policies(conn, valid)
    if bad:
        findings.append(
            Finding(
                "card policy",
                Status.WARN,
                f"{bad} employee(s) have an unknown card_policy; the unit's policy applies to them",
                f"set it to one of {', '.join(valid)} (or empty) in the roster",
            )
        )
    card_users = count_card_users_without_card(conn, unit_policy.value)
    needs = count_card_users(conn)
    if needs and not has_reader:
        findings.append(
            Finding(
                "card policy",
                Status.WARN,
                f"{needs} employee(s) punch by card, but no card reader is configured",
                "set cards.reader, or change their card policy",
            )
        )
    elif card_users and has_reader and unit_policy is not CardPolicy.FACE:
        findings.append(
            Finding(
                "cards",
                Status.WARN,
                f"{card_users} active employee(s) may punch by card but have no card registered",
                "register their cards on the maintenance page (tap to register)",
            )
        )
    if not findings:
        count = count_cards(conn)
        findings.append(Finding("cards", Status.OK, f"{count} card(s) registered; unit policy {unit_policy.value}"))
    return findings


@check
def gpio_feedback(rt: Runtime) -> list[Finding]:
    cfg = rt.config.gpio
    if not cfg.enabled:
        return [Finding("gpio", Status.OK, "LEDs, buzzer and relay not used (gpio.enabled = false)")]
    pins = {name: getattr(cfg, name) for name in ("green_led", "red_led", "buzzer", "relay") if getattr(cfg, name) is not None}
    if not pins:
        return [Finding("gpio", Status.WARN, "gpio is enabled but no pin is set", "set gpio.green_led, red_led, buzzer or relay")]
    if rt.config.unit.hardware == "sim" or cfg.backend == "mock":
        return [Finding("gpio", Status.OK, f"mock pins {pins}")]
    # late: a reader's library loads only when its reader is configured
    from kiosk.feedback.gpio import make_pin_factory

    try:
        factory = make_pin_factory(cfg.backend)
    except PresensiError as exc:
        return [
            Finding("gpio", Status.FAIL, str(exc), "install python3-lgpio, or set gpio.enabled = false on a unit without lights")
        ]
    factory.close()
    return [Finding("gpio", Status.OK, f"{cfg.backend} pins {pins}")]
