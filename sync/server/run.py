"""Serving the app with uvicorn over TLS (the ``presensi server run`` command)."""

from __future__ import annotations

import logging
import socket
import ssl
import sys
from typing import Any

from kiosk.clock import SystemClock
from kiosk.errors import ConfigError
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
    sock.set_inheritable(True)
    return sock


def serve(config: ServerConfig, storage: Storage, *, announce: Any = None) -> None:
    """Run until interrupted. Prints ``listening on URL`` (flushed) once the socket is bound;
    ``announce`` may replace that print."""
    import uvicorn

    if not config.allow_plain_http and (config.tls_cert_file is None or config.tls_key_file is None):
        raise ConfigError("the server needs tls_cert_file and tls_key_file (or allow_plain_http = true for a loopback test)")
    app = create_app(config, storage, SystemClock())
    sock = bind(config.host, config.port)
    port = sock.getsockname()[1]
    scheme = "http" if config.tls_cert_file is None else "https"
    options: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "timeout_keep_alive": 30,
        "timeout_graceful_shutdown": 3,
    }
    if config.tls_cert_file is not None:
        options.update(ssl_certfile=str(config.tls_cert_file), ssl_keyfile=str(config.tls_key_file))
        if config.client_ca_file is not None:
            options.update(ssl_ca_certs=str(config.client_ca_file), ssl_cert_reqs=ssl.CERT_REQUIRED)
    server = uvicorn.Server(uvicorn.Config(app, **options))
    url = f"{scheme}://{config.host}:{port}"
    if announce is not None:
        announce(url)
    else:
        print(f"listening on {url}", flush=True)
        sys.stdout.flush()
    server.run(sockets=[sock])
