"""Serving the app with uvicorn over TLS: ``presensi server run``, or a thread inside another program."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
import threading
from typing import Any

from core.clock import Clock, SystemClock
from core.errors import ConfigError
from core.notify import Notifier, Watchdog
from sync.server.app import create_app
from sync.server.config import ServerConfig
from sync.server.storage import Storage

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}; choose another port or stop what uses it") from exc
    sock.listen(512)
    return sock


def build_server(config: ServerConfig, storage: Storage, clock: Clock | None = None) -> tuple[Any, socket.socket, str]:
    """The uvicorn server, its bound (listening) socket and its URL. Connections made before the
    server runs wait in the socket's backlog."""
    # late: uvicorn loads only when this runs
    import uvicorn

    if not config.allow_plain_http and (config.tls_cert_file is None or config.tls_key_file is None):
        raise ConfigError("the server needs tls_cert_file and tls_key_file (or allow_plain_http = true for a loopback test)")
    app = create_app(config, storage, clock or SystemClock())
    sock = bind(config.host, config.port)
    port = sock.getsockname()[1]
    scheme = "http" if config.tls_cert_file is None else "https"
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": 30,
        "timeout_graceful_shutdown": 3,
        # X-Forwarded-For only from the proxies named (uvicorn trusts 127.0.0.1 by default: a local
        # proxy that does not send it would make every client look like this machine)
        "proxy_headers": bool(config.trusted_proxies),
        "forwarded_allow_ips": ",".join(config.trusted_proxies) or "",
    }
    if config.tls_cert_file is not None:
        options.update(ssl_certfile=str(config.tls_cert_file), ssl_keyfile=str(config.tls_key_file))
        if config.client_ca_file is not None:
            options.update(ssl_ca_certs=str(config.client_ca_file), ssl_cert_reqs=ssl.CERT_REQUIRED)
    host = f"[{config.host}]" if ":" in config.host else config.host
    return uvicorn.Server(uvicorn.Config(app, **options)), sock, f"{scheme}://{host}:{port}"


def serve(config: ServerConfig, storage: Storage) -> None:
    """Run until interrupted; prints ``listening on URL`` (flushed) once the socket is bound.
    Under systemd it says READY once serving, and pings the watchdog only while its own
    ``/healthz`` answers (a wedged event loop or database gets the service restarted)."""
    server, sock, url = build_server(config, storage)
    print(f"listening on {url}", flush=True)
    sys.stdout.flush()
    threading.Thread(target=_notify_while_healthy, args=(server, url), name="server-watchdog", daemon=True).start()
    server.run(sockets=[sock])


def _notify_while_healthy(server: Any, url: str) -> None:
    # late: httpx loads only when this runs
    import httpx

    notifier = Notifier.from_env()
    if not notifier.enabled:
        return
    # Loopback to ourselves: the certificate names the public host, so skip its check here only.
    client = httpx.Client(verify=False, timeout=5.0)  # noqa: S501
    with Watchdog(notifier, SystemClock()) as watchdog:
        ready = False
        while not server.should_exit:
            try:
                healthy = client.get(f"{url}/healthz").status_code == 200
            except httpx.HTTPError:
                healthy = False
            if healthy:
                if not ready:
                    notifier.ready("server melayani")
                    ready = True
                watchdog.progress()
            threading.Event().wait(5)


class ServerThread:
    """The server on a thread of this process (for the demo): ``start()`` returns the URL at once
    (the socket already listens); ``stop()`` shuts it down and waits."""

    def __init__(self, config: ServerConfig, storage: Storage) -> None:
        self.config = config
        self.storage = storage
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"ServerThread({self.url or 'not started'})"

    def start(self) -> str:
        self._server, sock, self.url = build_server(self.config, self.storage)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="presensi-server", daemon=True)
        self._thread.start()
        return self.url

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout_s)
        self._server = self._thread = None
