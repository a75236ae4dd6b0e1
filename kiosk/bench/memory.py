"""``presensi bench memory``: what a unit's services hold in memory, for a 2 GB Raspberry Pi 4.

For each gallery size (``--galleries``, default 300 and 3,000 employees) a unit is made in the
demo's configuration (simulated devices, the shared test photos as the camera's looping reel,
the demo's people, liveness models when present) plus that many synthesised employees with
templates for both embedders, provisioned with a reference server of its own. Then the unit's
services run as their own processes, as systemd runs them: ``presensi web``, ``presensi bridge
run`` and ``presensi sync run`` throughout, and the kiosk (``presensi run --no-web``) with each
embedder in turn (dlib with HOG; the ONNX model with YuNet, when the development models are
present), each for ``--window`` seconds after it says it is ready. RSS is read from /proc every
``--interval`` seconds: the peak (the kernel's high-water mark) and the steady level (the mean
over the last quarter of the window).

The whole unit's figure (``unit_steady_mb``) is the steady PSS of the larger kiosk plus web,
bridge and sync, measured while they run together: what the unit takes from the machine, each
shared library page counted once. ``unit_steady_rss_sum_mb`` adds their RSS instead (shared pages
counted in every process), a bound no unit reaches. On a unit the web runs in the kiosk's
process, so both carry one interpreter more than a unit has. Target: under 700 MB.

Leak check: on the first gallery the dlib kiosk runs ``--minutes`` (default 2) instead of the
window; its steady level at min(5, minutes/2) minutes and at the end must be within 5 %
(``--minutes 30`` gives the 5- and 30-minute figures). Every service running then gets the same.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.clock import SystemClock
from core.errors import ConfigError
from kiosk.bench._memory_unit import BenchUnit, prepare_unit
from kiosk.bench._rss import RssSeries, drift_pct, read_tree
from kiosk.bench._service_process import ServiceProcess
from kiosk.demo.sources import find_sources

NAME = "memory"
HELP = "peak and steady RSS of each service (kiosk per embedder, web, bridge, sync) with 300 and 3,000 employees"

log = logging.getLogger(__name__)

TARGET_UNIT_MB = 700
TARGET_DRIFT_PCT = 5.0
EARLY_CHECKPOINT_MIN = 5.0
SUPPORT_SERVICES = ("web", "bridge", "sync")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--galleries", default="300,3000", help="employee counts to measure, comma-separated")
    parser.add_argument("--window", type=float, default=60.0, help="seconds each kiosk runs after it is ready (default 60)")
    parser.add_argument(
        "--minutes",
        type=float,
        default=2.0,
        help="leak check: minutes the dlib kiosk runs on the first gallery (30 for the full check)",
    )
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between readings")
    parser.add_argument(
        "--faces", type=Path, default=None, help="face test data with train/ and test/ (default: the shared data)"
    )
    parser.add_argument("--seed", type=int, default=26)


def run(args: argparse.Namespace) -> dict[str, Any]:
    sources = find_sources(args.faces, None)
    if sources.train is None or sources.test is None:
        raise ConfigError(f"bench memory needs face photos: {sources.note}", ["--faces: give a folder with train/ and test/"])
    clock = SystemClock()
    sampler = Sampler(clock, threading.Event().wait, args.interval)
    galleries = [int(n) for n in str(args.galleries).split(",") if n.strip()]
    results: dict[str, Any] = {}
    leak: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="presensi-bench-memory-") as tmp:
        for n, size in enumerate(galleries):
            unit = prepare_unit(Path(tmp) / str(size), size, sources, clock, args.seed)
            try:
                results[str(size)], found = measure_unit(unit, sampler, args.window, args.minutes if n == 0 else None)
            finally:
                unit.stop()
            leak = leak or found
    unit_steady = max((r["unit_steady_mb"] for r in results.values()), default=0.0)
    return {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "window_s": args.window,
        "galleries": results,
        "target_unit_steady_mb": TARGET_UNIT_MB,
        "unit_steady_mb_max": unit_steady,
        "within_target": unit_steady < TARGET_UNIT_MB,
        "leak": leak,
    }


@dataclass
class Sampler:
    """Reads the running services' RSS every ``interval`` seconds of ``clock``; ``wait(seconds)``
    is how it passes the time between readings (True: stop early)."""

    clock: Any
    wait: Callable[[float], bool]
    interval: float

    def sample(self, running: dict[str, int], series: dict[str, RssSeries], seconds: float) -> tuple[float, float]:
        """Readings for ``seconds``; (start, end) on the series' time scale, which continues
        from one call to the next."""
        offset = max((s.last_s for s in series.values()), default=0.0) + self.interval
        start_ns = self.clock.monotonic_ns()
        while True:
            elapsed = (self.clock.monotonic_ns() - start_ns) / 1e9
            for name, pid in running.items():
                series[name].add(offset + elapsed, read_tree(pid))
            if elapsed >= seconds or self.wait(self.interval):
                return offset, offset + elapsed


def measure_unit(
    unit: BenchUnit, sampler: Sampler, window: float, leak_minutes: float | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every service of ``unit`` measured; (the gallery's figures, the leak check or {})."""
    root = unit.data_dir.parent
    shared = unit.configs["kiosk_dlib"]
    support = [
        ServiceProcess("web", shared, ["web", "--screen-port", "0", "--maintenance-port", "0"], root, ready_line="kiosk screen:"),
        ServiceProcess("bridge", shared, ["bridge", "run"], root),
        ServiceProcess("sync", shared, ["sync", "run"], root),
    ]
    series = {name: RssSeries(name) for name in [*unit.configs, *SUPPORT_SERVICES]}
    drift: dict[str, Any] = {}
    try:
        for service in support:
            service.start().wait_ready()
        for name, config in unit.configs.items():
            leak = leak_minutes is not None and name == "kiosk_dlib"
            seconds = leak_minutes * 60 if leak and leak_minutes is not None else window
            with ServiceProcess(name, config, ["run", "--no-web"], root) as kiosk:
                kiosk.wait_ready()
                running = {name: kiosk.pid} | {s.name: s.pid for s in support}
                timeline = sampler.sample(running, series, seconds)
            if leak and leak_minutes is not None:
                drift = leak_check(series, list(running), timeline, leak_minutes)
    finally:
        for service in reversed(support):
            service.stop()
    span = max(window / 4, sampler.interval)
    services = {name: s.summary(span) for name, s in series.items()}
    kiosk_steady = max(services[name]["steady_pss_mb"] for name in unit.configs)
    kiosk_rss = max(services[name]["steady_mb"] for name in unit.configs)
    kiosk_peak = max(services[name]["peak_mb"] for name in unit.configs)
    figures = {
        "employees": unit.employees,
        "templates": unit.templates,
        "services": services,
        "unit_steady_mb": round(kiosk_steady + sum(services[s]["steady_pss_mb"] for s in SUPPORT_SERVICES), 1),
        "unit_steady_rss_sum_mb": round(kiosk_rss + sum(services[s]["steady_mb"] for s in SUPPORT_SERVICES), 1),
        "unit_peak_rss_sum_mb": round(kiosk_peak + sum(services[s]["peak_mb"] for s in SUPPORT_SERVICES), 1),
    }
    return figures, drift


def leak_check(series: dict[str, RssSeries], names: list[str], timeline: tuple[float, float], minutes: float) -> dict[str, Any]:
    """Steady RSS at min(5, minutes/2) minutes into ``timeline`` and at its end, per service."""
    start, end = timeline
    early_s = start + min(EARLY_CHECKPOINT_MIN, minutes / 2) * 60
    span = min(60.0, (early_s - start) / 2)
    services = {}
    for name in names:
        early, late = series[name].steady_mb(early_s, span), series[name].steady_mb(end, span)
        services[name] = {"steady_early_mb": early, "steady_late_mb": late, "drift_pct": drift_pct(early, late)}
    worst = max(abs(s["drift_pct"]) for s in services.values())
    return {
        "minutes": round((end - start) / 60, 2),
        "early_checkpoint_min": round((early_s - start) / 60, 2),
        "mean_over_s": span,
        "services": services,
        "worst_drift_pct": worst,
        "target_drift_pct": TARGET_DRIFT_PCT,
        "within_target": worst <= TARGET_DRIFT_PCT,
    }
