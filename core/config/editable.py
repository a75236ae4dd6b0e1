"""What the maintenance page's configuration editor may change (issue 22, finding 2).

A technician tunes the unit (camera, face thresholds, schedule, screen texts); they must not point
the unit's files or its servers somewhere else. Through the page, ``web.log_file`` pointed at the
device key made ``/api/logs`` print it, and ``sync``/``targets``/``zk4370`` could be sent to
another host. So every path, and every security-relevant section or key, is locked on the page:
it is changed as root in the file itself (``sudoedit /etc/presensi/kiosk.toml``), where the
change is the operator's, not the page's.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from core.config import KioskConfig

#: Whole sections the page cannot change: where punches and biometrics go, and who may connect.
LOCKED_SECTIONS = frozenset({"sync", "targets", "zk4370", "privacy"})

#: Keys of other sections the page cannot change: who may log in, and where the page listens.
LOCKED_KEYS = frozenset(
    {
        "web.maintenance_host",
        "web.maintenance_port",
        "web.screen_host",
        "web.screen_port",
        "web.screen_frame_ancestors",
        "web.session_minutes",
        "web.session_max_hours",
        "web.lockout_after",
        "web.lockout_base_s",
        "web.lockout_max_s",
        "web.tls_hostnames",
        "web.services",
    }
)

WHERE_INSTEAD = "change it as root in the file itself (sudoedit the configuration file)"


def _is_path(annotation: Any) -> bool:
    """Whether a field's type is a path (``Path``, ``Path | None``, a list of paths …)."""
    if annotation is Path:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, tuple, typing.Annotated):
        return any(_is_path(arg) for arg in typing.get_args(annotation))
    return False


def locked_keys(model: type[BaseModel] = KioskConfig) -> set[str]:
    """Every dotted key the page cannot change: the locked sections and keys, and every path."""
    keys = {*LOCKED_SECTIONS, *LOCKED_KEYS}
    for section, field in model.model_fields.items():
        if field.exclude:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys |= {f"{section}.{name}" for name, sub in annotation.model_fields.items() if _is_path(sub.annotation)}
        elif _is_path(annotation):
            keys.add(section)
    return keys


def _value(config: KioskConfig, key: str) -> Any:
    value: Any = config.model_dump(mode="json")
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def locked_changes(current: KioskConfig, proposed: KioskConfig) -> list[str]:
    """Problems, one per locked key whose value the proposed configuration changes."""
    return [
        f"{key}: tidak dapat diubah dari halaman pemeliharaan / cannot be changed from the maintenance page; {WHERE_INSTEAD}"
        for key in sorted(locked_keys())
        if _value(current, key) != _value(proposed, key)
    ]
