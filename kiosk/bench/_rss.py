"""Resident memory of a running service, read from ``/proc`` (Linux), and what a series of
readings says: the peak, the steady level over a span, the drift between two spans.

A service is a process and its descendants (a helper it starts counts against it). RSS counts
shared pages (Python's own libraries, numpy, onnxruntime) once in every process, so the sum of
the services' RSS is an upper bound of what the unit needs; PSS (``smaps_rollup``) splits each
shared page among the processes that map it, so the sum of the services' PSS is what the unit
takes from the machine.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

PROC = Path("/proc")
KB_PER_MB = 1024


def _status_kb(pid: int, proc: Path) -> tuple[int, int]:
    """(VmRSS, VmHWM) of one process in kB; (0, 0) once it is gone."""
    try:
        text = (proc / str(pid) / "status").read_text()
    except OSError:
        return 0, 0
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def descendants(pid: int, proc: Path = PROC) -> list[int]:
    """``pid`` and every process below it."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _pss_kb(pid: int, proc: Path) -> int:
    try:
        text = (proc / str(pid) / "smaps_rollup").read_text()
    except OSError:
        return 0
    return next((int(line.split()[1]) for line in text.splitlines() if line.startswith("Pss:")), 0)


@dataclass(frozen=True)
class Reading:
    """One reading of a service, in kB, summed over its processes."""

    rss_kb: int
    hwm_kb: int
    pss_kb: int


def read_tree(pid: int, proc: Path = PROC) -> Reading:
    """RSS, high-water RSS and PSS of ``pid`` and its descendants."""
    rss = hwm = pss = 0
    for member in descendants(pid, proc):
        member_rss, member_hwm = _status_kb(member, proc)
        rss += member_rss
        hwm += member_hwm
        pss += _pss_kb(member, proc)
    return Reading(rss, hwm, pss)


@dataclass
class RssSeries:
    """Readings of one service: (seconds since the start of the measurement, RSS kB), and PSS alike."""

    name: str
    samples: list[tuple[float, int]] = field(default_factory=list)
    pss: list[tuple[float, int]] = field(default_factory=list)
    hwm_kb: int = 0

    def add(self, at_s: float, reading: Reading) -> None:
        if reading.rss_kb:
            self.samples.append((at_s, reading.rss_kb))
            self.pss.append((at_s, reading.pss_kb))
        self.hwm_kb = max(self.hwm_kb, reading.hwm_kb)

    @property
    def peak_mb(self) -> float:
        """The most it held: the kernel's high-water mark, or the largest reading."""
        largest = max((kb for _, kb in self.samples), default=0)
        return round(max(largest, self.hwm_kb) / KB_PER_MB, 1)

    def steady_mb(self, until_s: float, span_s: float, *, pss: bool = False) -> float:
        """The mean RSS (or PSS) over the ``span_s`` seconds before ``until_s`` (the last reading
        before it if none falls there)."""
        samples = self.pss if pss else self.samples
        window = [kb for at, kb in samples if until_s - span_s <= at <= until_s]
        if not window:
            before = [kb for at, kb in samples if at <= until_s]
            window = before[-1:] or [kb for _, kb in samples[:1]]
        return round(sum(window) / len(window) / KB_PER_MB, 1) if window else 0.0

    @property
    def last_s(self) -> float:
        return self.samples[-1][0] if self.samples else 0.0

    def summary(self, span_s: float) -> dict[str, float]:
        return {
            "peak_mb": self.peak_mb,
            "steady_mb": self.steady_mb(self.last_s, span_s),
            "steady_pss_mb": self.steady_mb(self.last_s, span_s, pss=True),
            "samples": len(self.samples),
        }


def drift_pct(early_mb: float, late_mb: float) -> float:
    """How much the steady level grew from ``early_mb`` to ``late_mb``, in per cent."""
    return round(100.0 * (late_mb - early_mb) / early_mb, 2) if early_mb else 0.0
