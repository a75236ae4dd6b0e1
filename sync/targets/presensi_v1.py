"""The HTTPS transport of protocol v1: signed requests, the pinned CA, errors sorted by whether
retrying can help, and the server clock read from every answer's Date header."""

from __future__ import annotations

import json
import logging
import os
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from core import wire as protocol
from core.clock import Clock
from core.errors import ConfigError
from core.identity import DeviceIdentity
from core.signing import sign_request
from core.store.punches import Punch
from core.wire import Ack, SyncRejected, SyncUnavailable

log = logging.getLogger(__name__)

_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}


#: OpenSSL's X509_V_FLAG_NO_CHECK_TIME (not named by Python's ssl module): verify the chain and the
#: name but not the certificates' validity dates.
NO_CHECK_TIME = 0x200000


def tls_context(
    ca_file: Path, client_cert: Path | None = None, client_key: Path | None = None, *, check_time: bool = True
) -> ssl.SSLContext:
    """Trust exactly ``ca_file`` (not the system store); present a client certificate if given.

    ``check_time=False`` for a unit whose clock is not known good (issue 21, item 3): at 2019 or
    2035 every certificate is "not yet valid" or "expired", and the unit could never reach the
    server that would tell it the time. The CA is pinned (this one file, copied at provisioning),
    the chain and the host name are still verified; validity dates judged by a wrong clock add
    nothing against a pinned key. Once the clock is synchronised they are checked again."""
    try:
        ctx = ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the server CA {ca_file}: {exc}; give the CA certificate (PEM) from the server admin"
        ) from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if not check_time:
        ctx.verify_flags = ssl.VerifyFlags(ctx.verify_flags | NO_CHECK_TIME)
    if client_cert is not None:
        try:
            ctx.load_cert_chain(str(client_cert), str(client_key) if client_key else None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"cannot load the client certificate {client_cert}: {exc}") from exc
    return ctx


class PresensiV1Target:
    """One server. ``offset_s`` is the server's clock minus ours, kept from the last answer and
    used to date request signatures so that a unit with a wrong clock can still talk."""

    type_key = "presensi_v1"

    def __init__(
        self,
        base_url: str,
        identity: DeviceIdentity,
        clock: Clock,
        *,
        ca_file: Path | None,
        client_cert: Path | None = None,
        client_key: Path | None = None,
        timeout_s: float = 20.0,
        allow_plain_http: bool = False,
        compress: bool = True,
        randbytes: Callable[[int], bytes] = os.urandom,
        offset_s: float = 0.0,
        transport: httpx.BaseTransport | None = None,
        check_certificate_time: bool | Callable[[], bool] = True,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme == "http" and not allow_plain_http:
            raise ConfigError(f"refusing plain http to {base_url}: use https:// (sync.allow_plain_http is for loopback tests)")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"server URL {base_url!r} is not an https:// URL")
        if parts.scheme == "https" and ca_file is None:
            raise ConfigError("no CA to pin for the server: give --ca when provisioning, or set sync.ca_file")
        self.base_url = base_url.rstrip("/")
        self.identity = identity
        self.clock = clock
        self.compress = compress
        self.offset_s = offset_s
        self.offset_measured = False
        self._randbytes = randbytes
        self._tls = (ca_file, client_cert, client_key) if parts.scheme == "https" else None
        self._timeout_s = timeout_s
        self._transport = transport
        # Judged before every request: a unit that starts before NTP has synchronised must check
        # the certificates' dates again once it has (and stop when its clock is found wrong).
        self._check_time = check_certificate_time if callable(check_certificate_time) else (lambda: check_certificate_time)
        self._checking_time = self._check_time()
        self._http = self._client(self._checking_time)

    def _client(self, check_time: bool) -> httpx.Client:
        verify: ssl.SSLContext | bool = True
        if self._tls is not None:
            ca_file, client_cert, client_key = self._tls
            assert ca_file is not None
            verify = tls_context(ca_file, client_cert, client_key, check_time=check_time)
        transport = self._transport
        if transport is None:
            # Headers and body leave as separate TLS records: without TCP_NODELAY, Nagle and the
            # server's delayed ACK add ~40 ms to every request.
            transport = httpx.HTTPTransport(verify=verify, socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        return httpx.Client(verify=verify, timeout=self._timeout_s, transport=transport, headers={"User-Agent": "presensi-kiosk"})

    def _current_client(self) -> httpx.Client:
        want = self._check_time()
        if want != self._checking_time and self._transport is None:
            log.info(
                "server certificate dates are %s checked: the clock is %s",
                "now" if want else "no longer",
                "trusted" if want else "not trusted",
            )
            self._http.close()
            self._http = self._client(want)
            self._checking_time = want
        return self._http

    def __repr__(self) -> str:
        return f"PresensiV1Target({self.base_url}, device={self.identity.device_id})"

    def close(self) -> None:
        self._http.close()

    # -- one request ---------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, body: bytes = b"", query: str = "", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        for attempt in (1, 2):
            created = int(self.clock.now().timestamp() + self.offset_s)
            signed = sign_request(self.identity, method, path, query, body, created=created, randbytes=self._randbytes)
            url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
            sent = time.monotonic()
            local_sent = self.clock.now()
            try:
                response = self._current_client().request(method, url, content=body, headers={**(headers or {}), **signed})
            except httpx.HTTPError as exc:
                raise SyncUnavailable(f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}") from exc
            self._measure_offset(response, local_sent, time.monotonic() - sent)
            if response.status_code in (401, 403) and attempt == 1 and "time outside" in self._error(response):
                log.warning("server refused our request time; retrying with its clock (offset %.1f s)", self.offset_s)
                continue
            return self._check(response)
        raise AssertionError("unreachable")

    def _measure_offset(self, response: httpx.Response, local_sent: Any, elapsed_s: float) -> None:
        server = protocol.parse_http_date(response.headers.get("date"))
        if server is None:
            return
        # Date has whole seconds and is truncated: the server's instant is half a second later
        # on average; ours is the middle of the round trip.
        local_mid = local_sent.timestamp() + elapsed_s / 2
        self.offset_s = server.timestamp() + 0.5 - local_mid
        self.offset_measured = True

    @staticmethod
    def _error(response: httpx.Response) -> str:
        try:
            data = response.json()
        except (ValueError, json.JSONDecodeError):
            return response.text[:200]
        return str(data.get("error", "")) if isinstance(data, dict) else ""

    def _check(self, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if status < 300:
            return response
        reason = self._error(response) or response.reason_phrase
        if status in _RETRYABLE:
            retry_after = protocol.parse_retry_after(response.headers.get("retry-after"), self.clock.now())
            raise SyncUnavailable(f"server answered {status}: {reason}", retry_after_s=retry_after)
        raise SyncRejected(f"server refused the request ({status}): {reason}", reason=reason, status=status)

    # -- protocol operations -------------------------------------------------------------------

    def provision(self, token: str, name: str = "") -> dict[str, Any]:
        body, headers = protocol.encode_body(
            {"token": token, "public_key": self.identity.public_hex, "name": name}, compress=False
        )
        return dict(self._request("POST", protocol.PROVISION_PATH, body=body, headers=headers).json())

    def upload(self, punches: Sequence[Punch]) -> Ack:
        body, headers = protocol.encode_body({"punches": [protocol.punch_to_wire(p) for p in punches]}, compress=self.compress)
        response = self._request("POST", protocol.PUNCHES_PATH, body=body, headers=headers)
        try:
            return Ack.from_json(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise SyncUnavailable(f"the server's acknowledgement is malformed: {exc}") from exc

    def upload_corrections(self, corrections: Sequence[dict[str, Any]]) -> protocol.CorrectionsAck:
        """Send signed punch corrections (wire form); the answer names those the server holds."""
        body, headers = protocol.encode_body({"corrections": list(corrections)}, compress=self.compress)
        response = self._request("POST", protocol.CORRECTIONS_PATH, body=body, headers=headers)
        try:
            return protocol.CorrectionsAck.from_json(response.json())
        except (ValueError, KeyError, TypeError) as exc:
            raise SyncUnavailable(f"the server's acknowledgement of corrections is malformed: {exc}") from exc

    def roster(self, since: int, embedder: str | None = None) -> tuple[bytes, str]:
        """The roster document's bytes and the server's signature over them; ``embedder``: the
        face templates wanted (the id of the unit's embedder; none: dlib's)."""
        query = f"since={int(since)}" + (f"&embedder={embedder}" if embedder else "")
        response = self._request("GET", protocol.ROSTER_PATH, query=query)
        return response.content, response.headers.get(protocol.ROSTER_SIGNATURE_HEADER, "")

    def heartbeat(self, report: dict[str, Any]) -> None:
        body, headers = protocol.encode_body(report, compress=self.compress)
        self._request("POST", protocol.HEALTH_PATH, body=body, headers=headers)

    def import_bundle(self, data: bytes) -> Ack:
        """Send a flash-disk bundle (used from a PC with network, or by a unit that has one)."""
        response = self._request("POST", protocol.BUNDLES_PATH, body=data, headers={"Content-Type": "application/zip"})
        return Ack.from_json(response.json())
