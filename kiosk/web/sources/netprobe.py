"""Can the unit reach the central server? DNS, TCP, TLS and authentication, each shown.

The name lookup is injectable (``resolve``) so tests map a server name to 127.0.0.1; the TLS
step verifies against the pinned CA when one is configured; the authentication step is a
callable the sync side provides (it knows how the unit proves itself).
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from core.i18n import text

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]
Authenticator = Callable[[], tuple[bool, str]]


@dataclass(frozen=True)
class ProbeStep:
    step: str  # dns | tcp | tls | auth
    ok: bool | None  # None: not tried (an earlier step failed, or not configured)
    detail: str  # for the log, in English
    ms: float | None = None
    say: str = ""  # the catalogue's key (core.i18n) for what a person reads, when the detail is ours

    def shown(self, lang: str) -> str:
        """The detail in ``lang``: the catalogue's words when it is ours, the system's words otherwise."""
        return text(self.say, lang) if self.say else self.detail


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class ServerProbe:
    def __init__(
        self,
        server_url: str,
        *,
        resolve: Resolver = system_resolve,
        ca_file: Path | None = None,
        timeout_s: float = 3.0,
        authenticate: Authenticator | None = None,
        monotonic: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.server_url = server_url
        self.resolve = resolve
        self.ca_file = ca_file
        self.timeout_s = timeout_s
        self.authenticate = authenticate
        self._mono = monotonic

    def __repr__(self) -> str:
        return f"ServerProbe({self.server_url!r})"

    def run(self) -> list[ProbeStep]:
        if not self.server_url:
            return [
                ProbeStep(s, None, "no central server (presensi provision)", say="probe.not_provisioned")
                for s in ("dns", "tcp", "tls", "auth")
            ]
        parts = urlsplit(self.server_url)
        host = parts.hostname or ""
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        steps: list[ProbeStep] = []

        t0 = self._mono()
        try:
            addrs = self.resolve(host, port)
            if not addrs:
                raise OSError("no address")
        except OSError as exc:
            steps.append(ProbeStep("dns", False, f"{host}: {exc}", _ms(t0, self._mono())))
            return steps + _skipped(("tcp", "tls", "auth"))
        steps.append(ProbeStep("dns", True, f"{host} → {', '.join(addrs[:3])}", _ms(t0, self._mono())))

        t0 = self._mono()
        sock: socket.socket | None = None
        last_error: OSError | None = None
        for addr in addrs:
            try:
                sock = socket.create_connection((addr, port), timeout=self.timeout_s)
                break
            except OSError as exc:
                last_error = exc
        if sock is None:
            steps.append(ProbeStep("tcp", False, f"port {port}: {last_error}", _ms(t0, self._mono())))
            return steps + _skipped(("tls", "auth"))
        steps.append(ProbeStep("tcp", True, f"{sock.getpeername()[0]}:{port}", _ms(t0, self._mono())))

        with sock:
            if tls:
                t0 = self._mono()
                context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
                try:
                    with context.wrap_socket(sock, server_hostname=host) as tls_sock:
                        version = tls_sock.version()
                    steps.append(ProbeStep("tls", True, f"{version} ✓", _ms(t0, self._mono())))
                except (ssl.SSLError, OSError) as exc:
                    steps.append(ProbeStep("tls", False, str(exc), _ms(t0, self._mono())))
                    return steps + _skipped(("auth",))
            else:
                steps.append(ProbeStep("tls", None, "plain http (test server only)", say="probe.plain_http"))

        if self.authenticate is None:
            steps.append(
                ProbeStep(
                    "auth", None, "not checked here (the sync service reports it in its health)", say="probe.auth_elsewhere"
                )
            )
            return steps
        t0 = self._mono()
        try:
            ok, detail = self.authenticate()
        except Exception as exc:  # noqa: BLE001 - the sync side's error, whatever it is, is the answer shown
            ok, detail = False, str(exc)
        steps.append(ProbeStep("auth", ok, detail, _ms(t0, self._mono())))
        return steps


def _skipped(names: tuple[str, ...]) -> list[ProbeStep]:
    return [ProbeStep(n, None, "not tried: an earlier step failed", say="probe.skipped") for n in names]


def _ms(t0: float, t1: float) -> float:
    return round((t1 - t0) * 1000, 1)
