"""``presensi-privileged``: the root side, one process per connection (systemd ``Accept=yes``).

Standard input is the connected socket. The helper checks who is calling (``SO_PEERCRED``: only
the users named with ``--peer-user``), reads one request, checks it against what this socket
allows (``--allow``) and :mod:`core.privileged_protocol`, runs one fixed command line (no shell;
tools found on the ``PATH`` the unit file sets, which no caller can change) and answers.
Every request is logged with the caller's pid and uid, never with anything else it sent.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
from collections.abc import Sequence

from core.privileged_protocol import ACTIONS, MAX_LOG_BYTES, MAX_REQUEST, Request, RequestError, decode

log = logging.getLogger("presensi.privileged")

READ_TIMEOUT_S = 10.0
RUN_TIMEOUT_S = 60.0


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    tool = shutil.which(argv[0])
    if tool is None:
        raise RequestError(f"{argv[0]} is not installed on this unit")
    return subprocess.run([tool, *argv[1:]], capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)


def _checked(argv: list[str]) -> None:
    done = _run(argv)
    if done.returncode != 0:
        raise RequestError(f"{argv[0]} failed: {(done.stderr or done.stdout).strip()[:200]}")


def perform(request: Request) -> dict[str, object]:
    """Run ``request`` (already checked); the answer's fields besides ``ok``."""
    if request.action == "restart":
        _checked(["systemctl", "--no-block", "restart", f"{request.unit}.service"])
        return {}
    if request.action == "reboot":
        _checked(["systemctl", "--no-block", "reboot"])
        return {}
    if request.action == "set-time":
        _checked(["date", "--utc", f"--set=@{request.epoch}"])
        try:
            _checked(["hwclock", "--systohc", "--utc", "--noadjfile"])
        except (RequestError, OSError, subprocess.TimeoutExpired) as exc:
            return {"rtc": False, "note": f"the clock is set; the RTC was not written ({exc})"}
        return {"rtc": True}
    argv = ["journalctl", "--no-pager", "-o", "json", "-n", str(request.lines)]
    for unit in request.units:
        argv += ["-u", f"{unit}.service"]
    done = _run(argv)
    if done.returncode != 0:
        raise RequestError(f"journalctl failed: {done.stderr.strip()[:200]}")
    lines, size = [], 0
    for line in reversed(done.stdout.splitlines()):  # the newest first, so a cut drops the oldest
        size += len(line) + 1
        if size > MAX_LOG_BYTES:
            break
        lines.append(line)
    return {"lines": lines[::-1]}


def peer(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end."""
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", creds)
    return pid, uid


def allowed_uids(users: Sequence[str]) -> set[int]:
    uids = set()
    for name in users:
        try:
            uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            log.warning("no such user %s: not allowed to call", name)
    return uids


def read_request(sock: socket.socket) -> bytes:
    sock.settimeout(READ_TIMEOUT_S)
    data = b""
    while b"\n" not in data:
        chunk = sock.recv(MAX_REQUEST + 1)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST:
            raise RequestError(f"request longer than {MAX_REQUEST} bytes")
    return data.split(b"\n", 1)[0]


def _drain(sock: socket.socket, limit: int = 1 << 20) -> None:
    seen = 0
    while seen < limit:
        chunk = sock.recv(65536)
        if not chunk:
            return
        seen += len(chunk)


def serve(sock: socket.socket, allow: Sequence[str], users: Sequence[str]) -> dict[str, object]:
    """Answer the one request on ``sock``; returns the answer sent."""
    pid, uid = peer(sock)
    try:
        if uid not in allowed_uids(users):
            raise RequestError("this user may not call the privileged helper")
        request = decode(read_request(sock))
        if request.action not in allow:
            raise RequestError(f"{request.action} is not allowed on this socket")
        answer: dict[str, object] = {"ok": True, **perform(request)}
        log.info("%s %s for pid %d uid %d: done", request.action, request.unit, pid, uid)
    except (RequestError, OSError, subprocess.TimeoutExpired) as exc:
        answer = {"ok": False, "error": str(exc)}
        log.warning("refused or failed for pid %d uid %d: %s", pid, uid, exc)
    try:
        sock.settimeout(READ_TIMEOUT_S)
        sock.sendall(json.dumps(answer, separators=(",", ":")).encode() + b"\n")
        sock.shutdown(socket.SHUT_WR)
        _drain(sock)  # closing with unread bytes would reset the connection and lose the answer
    except OSError as exc:
        log.warning("could not answer pid %d: %s", pid, exc)
    return answer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="presensi-privileged", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--allow", required=True, help=f"comma-separated actions this socket allows ({', '.join(ACTIONS)})")
    parser.add_argument("--peer-user", action="append", default=[], help="a user allowed to call (repeatable)")
    args = parser.parse_args(argv)
    allow = [a for a in args.allow.split(",") if a]
    unknown = set(allow) - set(ACTIONS)
    if unknown or not args.peer_user:
        parser.error(f"unknown actions {sorted(unknown)}" if unknown else "name at least one --peer-user")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        sock = socket.socket(fileno=os.dup(0))
    except OSError:
        print("presensi-privileged: standard input is not a socket; it is started by presensi-privileged.socket", file=sys.stderr)
        return 2
    with sock:
        answer = serve(sock, allow, args.peer_user)
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
