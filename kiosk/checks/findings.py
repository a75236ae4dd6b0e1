"""What a doctor check reports (:class:`Finding`, :class:`Status`) and how a check is registered
(:func:`check`): the part every module of :mod:`kiosk.checks` and :mod:`kiosk.doctor` shares."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from core.runtime import Runtime


class Status(enum.StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    part: str
    status: Status
    detail: str
    todo: str = ""


Check = Callable[[Runtime], list[Finding]]
CHECKS: list[Check] = []


def check(func: Check) -> Check:
    """Register ``func`` as a doctor check (run in the order registered)."""
    CHECKS.append(func)
    return func
