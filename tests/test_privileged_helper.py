"""The root helper behind the maintenance page's restart / reboot / clock / logs (issue 22, finding 13).

The helper runs as systemd runs it: ``Accept=yes`` hands each connection to a new process as its
standard input and output. :func:`activate` does the same for one connection (and one test uses
systemd's own ``systemd-socket-activate``). ``systemctl``, ``date``, ``hwclock`` and ``journalctl``
are stand-ins on the helper's ``PATH`` that record their arguments, so the tests see exactly which
command lines a request becomes — and that a refused request runs none.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.config import ConfigError, load_config
from core.errors import DeviceError, PresensiError
from core.privileged_protocol import MAX_REQUEST, Request
from kiosk.privileged.client import HelperClockSetter, HelperSystemActions, PrivilegedClient, journal_lines
from kiosk.web.sources.logs import JournalLogSource, LogFilter

REPO = Path(__file__).resolve().parent.parent
ADMIN = "restart,reboot,set-time,logs"

JOURNAL = [
    {
        "__REALTIME_TIMESTAMP": "1764726000000000",
        "PRIORITY": "6",
        "_SYSTEMD_UNIT": "presensi-kiosk.service",
        "MESSAGE": "started",
    },
    {
        "__REALTIME_TIMESTAMP": "1764726060000000",
        "PRIORITY": "3",
        "_SYSTEMD_UNIT": "presensi-sync.service",
        "MESSAGE": "server down",
    },
]


@pytest.fixture
def tools(tmp_path: Path) -> Path:
    """A bin directory whose tools append their argv (one JSON list per line) to calls.log."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    journal = "\n".join(json.dumps(e) for e in JOURNAL)
    for name in ("systemctl", "date", "hwclock", "journalctl"):
        script = bindir / name
        body = f'import json, sys\nopen({str(log)!r}, "a").write(json.dumps([{name!r}, *sys.argv[1:]]) + "\\n")\n'
        if name == "journalctl":
            body += f"print({journal!r})\n"
        if name == "hwclock":
            body += "import os\nsys.exit(int(os.environ.get('FAKE_HWCLOCK_EXIT', '0')))\n"
        script.write_text(f"#!{sys.executable}\n{body}")
        script.chmod(0o755)
    return bindir


def calls(tools: Path) -> list[list[str]]:
    log = tools.parent / "calls.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


class Activated:
    """A listening socket whose every connection is served by a fresh helper process."""

    def __init__(self, path: Path, argv: list[str], env: dict[str, str]) -> None:
        self.path = path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(str(path))
        self.listener.listen(4)
        self.argv = argv
        self.env = env
        self.exits: list[int] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                done = subprocess.run(
                    self.argv, stdin=conn.fileno(), stdout=conn.fileno(), env=self.env, timeout=120, check=False
                )
            self.exits.append(done.returncode)

    def close(self) -> None:
        self.listener.close()


def helper_argv(allow: str, user: str = "root") -> list[str]:
    return [sys.executable, "-m", "kiosk.privileged.helper", "--allow", allow, "--peer-user", user]


def helper_env(tools: Path, **extra: str) -> dict[str, str]:
    return {"PATH": str(tools), "PYTHONPATH": str(REPO), **extra}


@pytest.fixture
def admin(tmp_path: Path, tools: Path) -> Iterator[PrivilegedClient]:
    activated = Activated(tmp_path / "admin.sock", helper_argv(ADMIN), helper_env(tools))
    yield PrivilegedClient(activated.path, timeout_s=120)
    activated.close()


@pytest.fixture
def clock_only(tmp_path: Path, tools: Path) -> Iterator[PrivilegedClient]:
    activated = Activated(tmp_path / "clock.sock", helper_argv("set-time"), helper_env(tools, FAKE_HWCLOCK_EXIT="1"))
    yield PrivilegedClient(activated.path, timeout_s=120)
    activated.close()


def raw_call(path: Path, payload: bytes) -> dict[str, object]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(120)
        sock.connect(str(path))
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answer = json.loads(data)
    assert isinstance(answer, dict)
    return answer


def test_the_maintenance_page_restarts_reboots_and_sets_the_clock(admin: PrivilegedClient, tools: Path) -> None:
    actions = HelperSystemActions(["presensi-sync", "presensi-kiosk"], admin)
    actions.restart_service("presensi-sync")
    actions.reboot()
    actions.set_time(datetime(2026, 12, 3, 7, 55, tzinfo=UTC))
    assert calls(tools) == [
        ["systemctl", "--no-block", "restart", "presensi-sync.service"],
        ["systemctl", "--no-block", "reboot"],
        ["date", "--utc", "--set=@1796284500"],
        ["hwclock", "--systohc", "--utc", "--noadjfile"],
    ]
    assert actions.last_note == ""


@pytest.mark.parametrize(
    "unit", ["systemd-journald", "presensi-sync.service", "presensi-sync; reboot", "../presensi-sync", "ssh", "", 5, None]
)
def test_only_the_units_own_services_are_restarted(admin: PrivilegedClient, tools: Path, unit: object) -> None:
    answer = raw_call(admin.path, json.dumps({"action": "restart", "unit": unit}).encode() + b"\n")
    assert answer["ok"] is False and "is not one of the unit's services" in str(answer["error"])
    assert calls(tools) == []


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        (b'{"action": "set-time", "epoch": 86400}\n', "epoch must be a whole number"),  # 1970: a typing mistake
        (b'{"action": "set-time", "epoch": true}\n', "epoch must be a whole number"),
        (b'{"action": "set-time", "epoch": "1796284500"}\n', "epoch must be a whole number"),
        (b'{"action": "shell", "cmd": "id"}\n', "unknown fields: cmd"),
        (b'{"action": "shell"}\n', "unknown action 'shell'"),
        (b"[1, 2]\n", "not a JSON object"),
        (b"\xff\xfe\n", "not one line of JSON"),
        (b"[" * 3000 + b"\n", "not one line of JSON"),
        (b'{"action": "logs", "units": ["presensi-kiosk"], "lines": 10000000}\n', "lines must be a whole number"),
        (b'{"action": "logs", "units": ["ssh"], "lines": 10}\n', "'ssh' is not one of the unit's services"),
        (b'{"action": "logs", "units": "presensi-kiosk", "lines": 10}\n', "units must be a list"),
        (b"x" * (MAX_REQUEST + 10), f"request longer than {MAX_REQUEST} bytes"),
    ],
)
def test_malformed_or_hostile_requests_are_refused_and_run_nothing(
    admin: PrivilegedClient, tools: Path, payload: bytes, error: str
) -> None:
    answer = raw_call(admin.path, payload)
    assert answer["ok"] is False and error in str(answer["error"])
    assert calls(tools) == []


def test_the_clock_socket_only_sets_the_clock(clock_only: PrivilegedClient, tools: Path) -> None:
    """The port-4370 server's socket: SetTime works (the RTC failing is a note, not a failure); nothing else."""
    HelperClockSetter(clock_only).set_time(datetime(2026, 12, 3, 0, 0, tzinfo=UTC))
    assert calls(tools) == [["date", "--utc", "--set=@1796256000"], ["hwclock", "--systohc", "--utc", "--noadjfile"]]
    for request in (
        Request("restart", unit="presensi-kiosk"),
        Request("reboot"),
        Request("logs", units=("presensi-kiosk",), lines=5),
    ):
        with pytest.raises(PresensiError, match="is not allowed on this socket"):
            clock_only.call(request)
    assert len(calls(tools)) == 2


def test_rtc_failure_is_reported_as_a_note(clock_only: PrivilegedClient, tools: Path) -> None:
    answer = clock_only.call(Request("set-time", epoch=1796256000))
    assert answer["rtc"] is False and "the RTC was not written" in str(answer["note"])


def test_a_caller_that_is_not_the_service_user_is_refused(tmp_path: Path, tools: Path) -> None:
    activated = Activated(tmp_path / "s.sock", helper_argv(ADMIN, user="nobody"), helper_env(tools))
    try:
        with pytest.raises(PresensiError, match="this user may not call"):
            PrivilegedClient(activated.path, timeout_s=120).call(Request("reboot"))
    finally:
        activated.close()
    assert calls(tools) == []


def test_the_logs_page_reads_only_the_units_services_through_the_helper(admin: PrivilegedClient, tools: Path) -> None:
    source = JournalLogSource(["presensi-kiosk", "presensi-sync"], fetch=lambda units, n: journal_lines(admin, units, n))
    lines = source.read(LogFilter(limit=50))
    assert [(line.level, line.unit, line.message) for line in lines] == [
        ("info", "presensi-kiosk.service", "started"),
        ("error", "presensi-sync.service", "server down"),
    ]
    assert calls(tools) == [
        ["journalctl", "--no-pager", "-o", "json", "-n", "500", "-u", "presensi-kiosk.service", "-u", "presensi-sync.service"]
    ]


def test_a_missing_helper_says_how_to_start_it(tmp_path: Path) -> None:
    with pytest.raises(DeviceError, match=r"systemctl enable --now presensi-privileged\.socket"):
        HelperSystemActions(["presensi-sync"], PrivilegedClient(tmp_path / "absent.sock")).reboot()
    source = JournalLogSource(
        ["presensi-kiosk"], fetch=lambda units, n: journal_lines(PrivilegedClient(tmp_path / "absent.sock"), units, n)
    )
    (line,) = source.read(LogFilter(limit=5))
    assert line.level == "error" and "privileged helper is not running" in line.message


def test_the_helper_started_by_systemds_socket_activation(tmp_path: Path, tools: Path) -> None:
    activate = shutil.which("systemd-socket-activate")
    if activate is None:
        pytest.skip("needs systemd-socket-activate (apt-get install systemd)")
    path = tmp_path / "activated.sock"
    env = {**helper_env(tools), "PATH": f"{tools}:{os.environ['PATH']}"}
    proc = subprocess.Popen(
        [activate, "--accept", "--inetd", "-l", str(path), *helper_argv(ADMIN)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()  # "Listening on …" once the socket is bound
        assert "Listening on" in line, line
        HelperSystemActions(["presensi-kiosk"], PrivilegedClient(path, timeout_s=120)).restart_service("presensi-kiosk")
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    assert calls(tools) == [["systemctl", "--no-block", "restart", "presensi-kiosk.service"]]


def test_the_helper_refuses_to_run_without_a_socket() -> None:
    done = subprocess.run(
        helper_argv(ADMIN),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "started by presensi-privileged.socket" in done.stderr


def test_web_services_name_only_the_units_own_services(tmp_path: Path) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[web]\nservices = ["presensi-kiosk", "systemd-journald"]\n')
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert any("web.services" in p and "systemd-journald: not one of the unit's services" in p for p in refused.value.problems)
    config.write_text('[web]\nservices = ["presensi-kiosk", "presensi-zk4370"]\n')
    assert load_config(config).web.services == ["presensi-kiosk", "presensi-zk4370"]
