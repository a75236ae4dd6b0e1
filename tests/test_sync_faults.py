"""Exactly-once delivery to the real reference server over TLS on 127.0.0.1, whatever the network does."""

from __future__ import annotations

import os
import random
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sync_support import CuttingProxy, unit_runtime

from core.health import Health, read_all
from core.runtime import Runtime
from core.store.synthetic import build_signed_chain
from core.wire import SyncUnavailable
from kiosk.demo.server import ServerProcess
from sync.client import Backoff, SyncClient, SyncService
from sync.provision import build_client, provision


def provisioned(tmp_path: Path, server: ServerProcess, **sync: object) -> Runtime:
    runtime = unit_runtime(tmp_path / "unit", **sync)
    token = server.admin().issue_token("DISKOMINFO")
    for _ in range(30):  # the faulty server may lose the answer; provisioning is idempotent
        try:
            provision(runtime, server.url, token, server.ca_file)
            break
        except SyncUnavailable:
            continue
    runtime.close()
    return runtime


def record(runtime: Runtime, count: int) -> None:
    conn = runtime.connect()
    build_signed_chain(conn, runtime.identity(), count, employee_ids=[f"1990010120190{i:05d}" for i in range(40)])
    conn.close()


def service_for(client: SyncClient, seed: int) -> SyncService:
    return SyncService(
        client,
        Backoff(0.01, 0.05, random.Random(seed)),
        lambda _s: False,
        interval_s=1,
        heartbeat_s=3600,
        roster_s=3600,
        max_offset_s=120,
    )


def drain(service: SyncService, max_steps: int = 400) -> int:
    for step in range(1, max_steps + 1):
        service.step()
        if service.client.pending() == 0:
            return step
    raise AssertionError(f"not drained after {max_steps} rounds: {service.client.pending()} pending")


def assert_exactly_once(server: ServerProcess, device_id: str, count: int) -> None:
    ledger = server.admin().ledger
    assert ledger.punch_seqs(device_id) == list(range(1, count + 1))
    assert ledger.punch_count() == count


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path / "server") as running:
        yield running


def test_server_down_for_the_whole_recording_then_up(tmp_path: Path, server: ServerProcess) -> None:
    runtime = provisioned(tmp_path, server, batch_size=100)
    server.stop()
    record(runtime, 450)
    client = build_client(runtime)
    service = service_for(client, 1)
    delays = [service.step() for _ in range(4)]
    assert client.pending() == 450 and client.acked_seq == 0
    assert all(d > 0 for d in delays)
    assert {p.part: p.status for p in read_all(client.conn)}["sync"] == Health.WARN
    server.start()  # same port
    drain(service)
    client.target.close()
    assert client.acked_seq == 450
    assert_exactly_once(server, runtime.identity().device_id, 450)
    assert {p.part: p.status for p in read_all(client.conn)}["sync"] == Health.OK


def test_server_failing_30_percent_with_500_and_503(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server", faults={"fail_rate": 0.3, "after_share": 0.5, "seed": 11}) as server:
        runtime = provisioned(tmp_path, server, batch_size=40)
        record(runtime, 1200)
        client = build_client(runtime)
        steps = drain(service_for(client, 2))
        client.target.close()
        assert steps > 1  # the faults did bite
        assert_exactly_once(server, runtime.identity().device_id, 1200)
        # Faults after processing really happened: the server saw batches again as duplicates.
        assert client.acked_seq == 1200


def test_connections_cut_at_random_byte_offsets_both_ways(tmp_path: Path, server: ServerProcess) -> None:
    runtime = provisioned(tmp_path, server, batch_size=60)
    record(runtime, 900)
    with CuttingProxy(server.port, random.Random(5), cut_share=0.8, max_up=60_000, max_down=5_000) as proxy:
        runtime.config.sync.server_url = f"https://127.0.0.1:{proxy.port}"
        client = build_client(runtime)
        drain(service_for(client, 3), max_steps=800)
        client.target.close()
        assert proxy.cuts >= 5 and proxy.connections > proxy.cuts // 2
    assert_exactly_once(server, runtime.identity().device_id, 900)


def _kill_run(tmp_path: Path, server: ServerProcess, kills: int, count: int, seed: int) -> None:
    runtime = provisioned(tmp_path, server)
    record(runtime, count)
    config = tmp_path / "unit.toml"
    config.write_text(
        '[unit]\nhardware = "sim"\n[clock]\nstate = "synced"\n'
        "[sync]\nbatch_size = 25\nbackoff_base_s = 0.05\nbackoff_max_s = 0.2\ninterval_s = 1\ntimeout_s = 5\n",
        encoding="utf-8",
    )
    cmd = [
        sys.executable,
        "-m",
        "kiosk.cli",
        "sync",
        "--config",
        str(config),
        "--data-dir",
        str(runtime.data_dir),
        "--log-level",
        "info",
    ]
    rng = random.Random(seed)
    killed = 0
    while killed < kills:
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**os.environ})
        assert proc.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stderr, selectors.EVENT_READ)
        uploading, finished = False, False
        while not uploading:  # wait (on the child's own log) until it is uploading
            if not selector.select(timeout=20):
                break
            line = proc.stderr.readline()
            if not line:
                finished = True
                break
            uploading = "uploading punches" in line
        selector.close()
        if uploading:
            try:
                proc.wait(timeout=rng.uniform(0.0, 0.25))  # a random moment into the upload
            except subprocess.TimeoutExpired:
                proc.kill()  # SIGKILL
                killed += 1
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stderr.close()
        client = build_client(runtime)
        pending = client.pending()
        client.conn.close()
        client.target.close()
        if pending == 0 or finished:
            break
    client = build_client(runtime)
    drain(service_for(client, seed))
    assert killed == kills
    assert_exactly_once(server, runtime.identity().device_id, count)


def test_sync_process_sigkilled_while_uploading(tmp_path: Path, server: ServerProcess) -> None:
    _kill_run(tmp_path, server, kills=8, count=2500, seed=21)


@pytest.mark.soak
def test_sync_process_sigkilled_30_times(tmp_path: Path, server: ServerProcess) -> None:
    _kill_run(tmp_path, server, kills=30, count=9000, seed=22)
