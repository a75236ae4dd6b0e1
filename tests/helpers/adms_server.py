"""A PUSH (ADMS) attendance server written from ZKTeco's published PUSH protocol, not from our
client: the option handshake with ATTLOGStamp, ATTLOG uploads answered OK:<n>, command queues
polled through getrequest, and results posted to devicecmd."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse


@dataclass
class PushDevice:
    stamp: int = 0
    attlog: list[str] = field(default_factory=list)
    commands: list[tuple[int, str]] = field(default_factory=list)
    results: list[dict[str, str]] = field(default_factory=list)
    extra_lines: list[str] = field(default_factory=list)


@dataclass
class PushServer:
    devices: dict[str, PushDevice] = field(default_factory=dict)
    down: bool = False  # answer 503 to everything
    lose_next_reply: int = 0  # store the next N uploads but answer 502 (the reply is lost)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def device(self, sn: str) -> PushDevice:
        return self.devices.setdefault(sn, PushDevice())


def make_app(server: PushServer) -> FastAPI:
    app = FastAPI()

    def unavailable() -> Response | None:
        return PlainTextResponse("down", status_code=503) if server.down else None

    @app.get("/iclock/cdata")
    def handshake(SN: str, options: str = "") -> Response:
        if (down := unavailable()) is not None:
            return down
        with server.lock:
            device = server.device(SN)
            lines = [
                f"GET OPTION FROM: {SN}",
                f"ATTLOGStamp={device.stamp}",
                "OPERLOGStamp=9999",
                "ATTPHOTOStamp=None",
                "ErrorDelay=30",
                "Delay=10",
                "TransTimes=00:00;14:05",
                "TransInterval=1",
                "TransFlag=TransData AttLog\tOpLog\tEnrollUser\tChgUser",
                "TimeZone=7",
                "Realtime=1",
                "Encrypt=None",
            ]
        return PlainTextResponse("\n".join(lines) + "\n")

    @app.post("/iclock/cdata")
    async def upload(request: Request, SN: str, table: str, Stamp: str = "0") -> Response:
        if (down := unavailable()) is not None:
            return down
        body = (await request.body()).decode()
        lines = [line for line in body.splitlines() if line.strip()]
        with server.lock:
            device = server.device(SN)
            if table == "ATTLOG":
                device.attlog.extend(lines)
                if Stamp.isdigit() and int(Stamp) > device.stamp:
                    device.stamp = int(Stamp)
            if server.lose_next_reply > 0:
                server.lose_next_reply -= 1
                return PlainTextResponse("bad gateway", status_code=502)
        return PlainTextResponse(f"OK:{len(lines)}")

    @app.get("/iclock/getrequest")
    def getrequest(SN: str) -> Response:
        if (down := unavailable()) is not None:
            return down
        with server.lock:
            device = server.device(SN)
            if not device.commands:
                return PlainTextResponse("OK")
            text = "\n".join(f"C:{cid}:{cmd}" for cid, cmd in device.commands)
            device.commands.clear()
        return PlainTextResponse(text + "\n")

    @app.post("/iclock/devicecmd")
    async def devicecmd(request: Request, SN: str) -> Response:
        body = (await request.body()).decode()
        with server.lock:
            device = server.device(SN)
            for line in body.splitlines():
                if line.startswith("ID="):
                    device.results.append(dict(part.split("=", 1) for part in line.split("&")))
                elif line.strip():
                    device.extra_lines.append(line)
        return PlainTextResponse("OK")

    return app
