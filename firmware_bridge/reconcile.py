"""Make a module's library match the database: the roster's templates in, removed ones out.

Run at start and after every roster change. Each step commits on its own and only after the
module confirmed it, so a fault half-way (unplugged, stalled) leaves the map true to what the
module holds, and the next run finishes the job:

1. a mapped slot whose template is no longer wanted (employee removed or deactivated, template
   replaced) is deleted from the module and forgotten;
2. a mapped slot the module reports empty (module wiped or swapped) is forgotten, so its
   template is written again;
3. a used slot nobody mapped (an orphan: an enrolment cut short, another unit's leftovers) is
   deleted;
4. every wanted template without a slot is written to the lowest free slot and mapped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from core.privacy.seal import TemplateKeyError
from core.store.finger_templates import FingerDB
from firmware_bridge.base import FingerprintModule
from firmware_bridge.errors import LibraryFull, ModuleRefused

log = logging.getLogger(__name__)


@dataclass
class ReconcileReport:
    written: int = 0
    deleted: int = 0
    forgotten: int = 0
    kept: int = 0
    failed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.written or self.deleted or self.forgotten)


class Reconciler:
    def __init__(self, module: FingerprintModule, db: FingerDB, module_id: str, family: str) -> None:
        self.module = module
        self.db = db
        self.module_id = module_id
        self.family = family

    def __repr__(self) -> str:
        return f"Reconciler({self.module_id})"

    def capacity(self) -> int:
        info = self.module.info
        return info.capacity if info else 0

    def free_slot(self, used: set[int] | None = None) -> int:
        """The lowest slot neither the module nor the map uses."""
        taken = set(self.db.slots(self.module_id)) | (used if used is not None else self.module.used_slots())
        for slot in range(self.capacity()):
            if slot not in taken:
                return slot
        raise LibraryFull(
            f"the fingerprint module's library is full ({self.capacity()} templates); remove employees or use a larger module",
            code=0x1F,
            name="library_full",
        )

    def run(self) -> ReconcileReport:
        report = ReconcileReport()
        desired = self.db.desired(self.family)
        mapped = self.db.slots(self.module_id)
        used = self.module.used_slots(hint=mapped.keys())
        seen_templates: set[int] = set()
        for slot, template_id in sorted(mapped.items()):
            wanted = template_id in desired and template_id not in seen_templates
            if wanted and slot in used:
                seen_templates.add(template_id)
                report.kept += 1
                continue
            if slot in used:
                self.module.delete(slot)
                used.discard(slot)
                report.deleted += 1
            self.db.unassign(self.module_id, slot)
            report.forgotten += 1
        mapped = self.db.slots(self.module_id)
        for slot in sorted(used - set(mapped)):
            log.info("deleting orphan template in slot %d of %s", slot, self.module_id)
            self.module.delete(slot)
            used.discard(slot)
            report.deleted += 1
        for template_id, row in desired.items():
            if template_id in seen_templates:
                continue
            try:
                raw = self.db.template_bytes(template_id)
            except TemplateKeyError as exc:  # the key cannot be read now: written once it can
                report.failed.append(f"{row.employee_id}/{row.finger}: template key")
                log.warning("template %d not written to %s: %s", template_id, self.module_id, exc)
                continue
            slot = self.free_slot(used)
            try:
                self.module.write_template(slot, raw)
            except ModuleRefused as exc:
                log.warning("template %d (employee %s) not written to %s: %s", template_id, row.employee_id, self.module_id, exc)
                report.failed.append(f"{row.employee_id}/{row.finger}: {exc.name}")
                continue
            self.db.assign(self.module_id, slot, template_id)
            used.add(slot)
            report.written += 1
        log.info(
            "reconciled %s: %d written, %d deleted, %d kept, %d failed",
            self.module_id,
            report.written,
            report.deleted,
            report.kept,
            len(report.failed),
        )
        return report
