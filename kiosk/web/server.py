"""Running the two apps: the screen on 127.0.0.1 (plain HTTP, local Chromium) and the
maintenance page on the LAN over TLS, each a uvicorn server in a thread of one process."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from core.errors import PresensiError

log = logging.getLogger(__name__)


class _Server(uvicorn.Server):
    """uvicorn's server that tells when it listens (no polling, no sleeps)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = threading.Event()
        self.failed = threading.Event()

    async def startup(self, sockets: list | None = None) -> None:  # type: ignore[type-arg]
        await super().startup(sockets)
        if self.should_exit:
            self.failed.set()
        self.ready.set()

    def install_signal_handlers(self) -> None:  # run in a thread: the main thread keeps its handlers
        return


@dataclass
class Running:
    server: _Server
    thread: threading.Thread
    host: str
    port: int
    tls: bool

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(
    app: FastAPI,
    host: str,
    port: int,
    *,
    certfile: Path | None = None,
    keyfile: Path | None = None,
    timeout_s: float = 15.0,
    name: str = "web",
) -> Running:
    """Start ``app`` on ``host:port`` (port 0: any free port) and return once it listens."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        ssl_certfile=str(certfile) if certfile else None,
        ssl_keyfile=str(keyfile) if keyfile else None,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        server_header=False,
    )
    server = _Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    if not server.ready.wait(timeout_s) or server.failed.is_set():
        server.should_exit = True
        raise PresensiError(f"the {name} server did not start on {host}:{port}; is the port in use? (see the log)")
    bound = port
    for srv in server.servers:
        for sock in srv.sockets:
            bound = sock.getsockname()[1]
    return Running(server, thread, host, bound, certfile is not None)
