"""``presensi bench memory``: readings from /proc, the steady level and the drift, the sampler on
an injected clock, and (soak) the whole bench on a small gallery with real service processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.clock import FakeClock
from kiosk.bench._rss import Reading, RssSeries, descendants, drift_pct, read_tree
from kiosk.bench.memory import Sampler, leak_check

REPO = Path(__file__).resolve().parent.parent


def fake_process(proc: Path, pid: int, parent: int, rss_kb: int, hwm_kb: int, pss_kb: int) -> None:
    folder = proc / str(pid)
    folder.mkdir(parents=True)
    (folder / "stat").write_text(f"{pid} (python3 (x)) S {parent} 1 1 0 -1\n")
    (folder / "status").write_text(f"Name:\tpython3\nVmHWM:\t{hwm_kb} kB\nVmRSS:\t{rss_kb} kB\nThreads:\t4\n")
    (folder / "smaps_rollup").write_text(
        f"00400000-ffffffff ---p 00000000 00:00 0 [rollup]\nRss: {rss_kb} kB\nPss: {pss_kb} kB\n"
    )


def test_a_service_is_its_process_and_its_descendants(tmp_path: Path) -> None:
    fake_process(tmp_path, 10, 1, 100_000, 150_000, 60_000)
    fake_process(tmp_path, 11, 10, 20_000, 25_000, 5_000)
    fake_process(tmp_path, 12, 11, 1_000, 1_000, 500)
    fake_process(tmp_path, 13, 1, 999_000, 999_000, 999_000)  # another service
    (tmp_path / "self").mkdir()
    assert sorted(descendants(10, tmp_path)) == [10, 11, 12]
    assert read_tree(10, tmp_path) == Reading(rss_kb=121_000, hwm_kb=176_000, pss_kb=65_500)
    assert read_tree(99, tmp_path) == Reading(0, 0, 0)  # gone: nothing, no error


def test_steady_is_the_mean_over_the_span_and_peak_the_high_water_mark() -> None:
    series = RssSeries("kiosk")
    for second, kb in enumerate([100_000, 400_000, 300_000, 302_400, 307_200, 307_200]):
        series.add(float(second), Reading(kb, 410_000 if second == 1 else 0, kb // 2))
    assert series.peak_mb == round(410_000 / 1024, 1)
    assert series.steady_mb(5.0, 2.0) == round((302_400 + 307_200 + 307_200) / 3 / 1024, 1)
    assert series.steady_mb(5.0, 2.0, pss=True) == round((151_200 + 153_600 + 153_600) / 3 / 1024, 1)
    assert series.steady_mb(0.5, 0.1) == round(100_000 / 1024, 1)  # no reading in the span: the one before
    assert drift_pct(300.0, 309.0) == 3.0
    assert drift_pct(0.0, 5.0) == 0.0


def test_the_sampler_reads_on_its_clock_and_the_leak_check_compares_two_checkpoints() -> None:
    clock = FakeClock()

    def wait(seconds: float) -> bool:
        clock.advance(seconds)
        return False

    series = {"kiosk_dlib": RssSeries("kiosk_dlib")}
    start, end = Sampler(clock, wait, 10.0).sample({"kiosk_dlib": os.getpid()}, series, 600.0)
    assert (start, end) == (10.0, 610.0)
    assert len(series["kiosk_dlib"].samples) == 61
    assert all(kb > 0 for _, kb in series["kiosk_dlib"].samples)
    # growth of 1 % a minute after the fifth minute
    grown = RssSeries("kiosk_dlib")
    for at, _ in series["kiosk_dlib"].samples:
        minutes = (at - start) / 60
        grown.add(at, Reading(int(300_000 * (1 + 0.01 * max(0.0, minutes - 5))), 0, 0))
    check = leak_check({"kiosk_dlib": grown}, ["kiosk_dlib"], (start, end), 10.0)
    assert check["early_checkpoint_min"] == 5.0
    assert 4.0 < check["services"]["kiosk_dlib"]["drift_pct"] < 5.0
    assert check["within_target"]


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_bench_memory_measures_every_service(shared_dir: Path) -> None:
    small = ["--galleries", "30", "--window", "10", "--minutes", "0.4", "--faces", str(shared_dir / "testdata" / "faces")]
    result = subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "bench", "memory", "--json", *small],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "PRESENSI_SHARED": str(shared_dir)},
        timeout=1500,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    services = figures["galleries"]["30"]["services"]
    assert set(services) == {"kiosk_dlib", "kiosk_onnx", "web", "bridge", "sync"}
    assert all(s["steady_mb"] > 20 and s["peak_mb"] >= s["steady_mb"] for s in services.values()), services
    assert figures["galleries"]["30"]["templates"] == 30 * 3 * 2
    assert figures["leak"]["services"]["kiosk_dlib"]["steady_late_mb"] > 0


def test_bench_names_are_known_without_importing_the_benchmarks() -> None:
    from kiosk.bench import benchmark_names, benchmarks

    assert "memory" in benchmark_names()
    assert benchmark_names() == sorted(benchmarks())  # each module's NAME is its file's name
    probe = "import sys; from kiosk.cli import build_parser; build_parser(); print('numpy' in sys.modules, 'cv2' in sys.modules)"
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
    assert imported.stdout.split() == ["False", "False"]  # what the bridge and sync services no longer carry
