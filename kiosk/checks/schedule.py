"""Doctor: the work codes this unit classifies punches by, and which assumptions are in force.

A preset's value that no regulation text states is marked assumed (docs/schedule.md); a status
computed from it may cost someone a salary deduction. So the doctor names, for the configured
default work code and for every work code the roster's active employees use, the assumptions
and unfilled placeholders (Jember's Ramadan hours) in force, and whether the weekly hours reach
the regulation's minimum.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from core.errors import ConfigError, PresensiError
from core.runtime import Runtime
from core.schedule.workcodes import WorkCode, WorkCodeBook
from core.store.roster import work_code_counts
from kiosk.checks.findings import Finding, Status, check

TODO_ASSUMED = (
    "confirm each with the regency's own rules; replace a wrong value by sending the regency's work code "
    "with the roster (same code), docs/schedule.md"
)


@dataclass(frozen=True)
class _Use:
    code: str
    employees: int
    default: bool

    def who(self) -> str:
        parts = ["the default work code"] if self.default else []
        if self.employees:
            parts.append(f"{self.employees} active employee{'s' if self.employees != 1 else ''}")
        return " and ".join(parts)


def _uses(conn: sqlite3.Connection, default: str) -> tuple[list[_Use], int]:
    """The work codes in use (default first) and how many active employees name none."""
    counts = work_code_counts(conn)
    without = counts.pop("", 0)
    if default:
        counts[default] = counts.get(default, 0) + without
    uses = [_Use(code, n, code == default) for code, n in counts.items()]
    if default and not any(u.default for u in uses):
        uses.append(_Use(default, 0, True))
    return sorted(uses, key=lambda u: (not u.default, u.code)), without


@check
def work_codes(rt: Runtime) -> list[Finding]:
    """The default work code and the roster's codes in use: known, their weekly hours, their assumptions."""
    default = rt.config.schedule.default_work_code
    try:
        conn = rt.connect()
    except PresensiError:
        return []  # the database check says why
    try:
        uses, without = _uses(conn, default)
        book = WorkCodeBook(conn)
        findings = [_finding(use, book) for use in uses]
    finally:
        conn.close()
    if not default and without:
        findings.insert(
            0,
            Finding(
                "work codes",
                Status.WARN,
                f"{without} active employee{'s' if without != 1 else ''} name no work code and schedule.default_work_code "
                "is not set: their punches are 'Tanpa jadwal'",
                "set schedule.default_work_code (a preset: presensi config check lists it), or give them a work code in the roster",
            ),
        )
    return findings or [Finding("work codes", Status.OK, "no default work code and no employees: nothing to classify")]


def _finding(use: _Use, book: WorkCodeBook) -> Finding:
    part = f"work code {use.code}"
    try:
        work_code = book.get(use.code)
    except ConfigError as exc:
        return Finding(part, Status.FAIL, f"used by {use.who()}, but its definition is invalid: {exc}", "fix it in the roster")
    if work_code is None:
        return Finding(
            part,
            Status.FAIL,
            f"used by {use.who()}, but this unit knows no such work code: those punches are 'Tanpa jadwal'",
            "send the work code with the roster, or name a preset (docs/schedule.md lists them)",
        )
    return _describe(part, use, work_code)


def _describe(part: str, use: _Use, work_code: WorkCode) -> Finding:
    where = f" ({work_code.region})" if work_code.region else ""
    detail = f"used by {use.who()}{where}; {work_code.weekly_summary()}"
    todo = []
    if work_code.meets_minimum() is False:
        todo.append("the scheduled hours fall short of the regulation's weekly minimum: check hours and breaks with the regency")
    in_force = [*work_code.assumptions, *work_code.pending]
    if in_force:
        detail += f"; {len(in_force)} assumption(s) in force: " + "; ".join(f"({n}) {a}" for n, a in enumerate(in_force, 1))
        todo.append(TODO_ASSUMED)
    else:
        detail += "; every value cited, none assumed"
    return Finding(part, Status.WARN if todo else Status.OK, detail, "; ".join(todo))
