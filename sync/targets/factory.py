"""Build the configured extra targets (``[[targets]]``) with the unit's store wired in."""

from __future__ import annotations

import logging
from datetime import datetime

from core.card_uid import normalise_uid
from core.clock import Clock
from core.config import AdmsTargetConfig, FrappeTargetConfig, TargetConfig
from core.store import punch_log
from core.store.cards import add_card_if_free, card_holder
from core.store.erasure import erase_employee
from core.store.finger_templates import count_finger_templates
from core.store.punches import Punch, PunchStore
from core.store.roster import Employee, count_employees, get_employee, upsert_employee
from sync.targets.adms import AdmsTarget, CommandRefused, RosterCommands
from sync.targets.base import PunchTarget
from sync.targets.frappe import build_frappe

log = logging.getLogger(__name__)


def roster_commands(store: PunchStore, clock: Clock, *, actor: str) -> RosterCommands:
    """What an allow-listed server command may do to the roster, with every change audited."""
    conn = store.conn

    def owned(pin: str) -> Employee | None:
        """The employee, when the PUSH server made it; CommandRefused for anyone else's."""
        existing = get_employee(conn, pin)
        if existing is not None and existing.source != "adms":
            raise CommandRefused(f"employee {pin} comes from the {existing.source} roster, not from this server")
        return existing

    def upsert(pin: str, name: str, card: str | None) -> None:
        existing = owned(pin)
        uid = (
            normalise_uid(card.strip("[]"), "hex" if card.startswith("[") else "decimal") if card and card.strip("[]0") else None
        )
        if uid is not None:
            holder = card_holder(conn, uid)
            if holder is not None and holder != pin:
                raise CommandRefused(f"card {uid[:4]}… belongs to another employee; a card is never moved")
        # a name only: the codes and the active flag stay as they are (never cleared by a server)
        upsert_employee(
            conn,
            pin,
            name,
            now=clock.now(),
            unit_code=existing.unit_code if existing else "",
            work_code=existing.work_code if existing else "",
            active=existing.active if existing else True,
            source="adms",
        )
        if uid is not None:
            add_card_if_free(conn, uid, pin, source="adms", now=clock.now())

    def remove(pin: str) -> None:
        if owned(pin) is None:
            return
        erase_employee(conn, pin, now=clock.now(), actor=actor, reason="DATA DELETE USERINFO from the ADMS server")

    def punches_between(start: datetime, end: datetime) -> list[Punch]:
        return punch_log.punches_between(conn, start, end)

    def info() -> dict[str, str]:
        users = count_employees(conn, active=True)
        return {
            "~DeviceName": "Presensi Kiosk",
            "~SerialNumber": store.identity.device_id,
            "UserCount": str(users),
            "TransactionCount": str(store.count()),
            "FPCount": str(count_finger_templates(conn)),
        }

    return RosterCommands(upsert, remove, punches_between, info)


def build_target(config: TargetConfig, store: PunchStore, clock: Clock, *, zone: str) -> PunchTarget:
    if isinstance(config, FrappeTargetConfig):
        return build_frappe(config, unit_zone=zone, device_id=store.identity.device_id)
    assert isinstance(config, AdmsTargetConfig)
    return AdmsTarget(
        config.name,
        config.url,
        config.serial_number or store.identity.device_id,
        zone=zone,
        roster=roster_commands(store, clock, actor=f"adms:{config.name}"),
        user_commands=config.apply_user_commands,
        ca_file=config.ca_file,
        allow_plain_http=config.allow_plain_http,
    )
