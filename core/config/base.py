"""What every configuration section shares: unknown keys refused, assignments validated, and
the marker for secret fields; the defaults for where a unit keeps its files."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_CONFIG_PATH = Path("/etc/presensi/kiosk.toml")
DEFAULT_DATA_DIR = Path("/var/lib/presensi")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def secret(description: str) -> Any:
    """A field whose value ``config show`` redacts."""
    return Field(default=None, description=description, json_schema_extra={"secret": True})


def is_loopback(host: str) -> bool:
    """Whether a listen address is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
