"""Configuration of the reference server (a separate program from the kiosk, with its own file)."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from core.config import FaceConfig, format_problems
from core.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:////var/lib/presensi-server/server.db"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class FaultInjection(_Section):
    """Answers chosen requests with 500/503 on purpose: for fault-injection tests and drills only."""

    fail_rate: float = Field(0.0, ge=0.0, le=0.95, description="Share of /v1 requests answered with 500 or 503.")
    after_share: float = Field(
        0.5, ge=0.0, le=1.0, description="Of those, the share failed after the request was processed (the answer is lost)."
    )
    seed: int | None = Field(None, description="Seed of the fault generator (None: random).")


class FaceModel(_Section):
    """An ONNX face model the regency's units use (``face.onnx_model`` on the unit): the server
    makes a template with it at each enrolment (photos are not kept), beside dlib's."""

    path: Path = Field(description="The model file (a copy of what the units configure; the same SHA-256).")
    input_name: str | None = Field(
        None, description="As face.onnx_input_name on the unit (else MODEL.json, else the only input)."
    )
    output_name: str | None = Field(None, description="As face.onnx_output_name.")
    colour: Literal["RGB", "BGR"] | None = Field(None, description="As face.onnx_colour.")
    layout: Literal["NCHW", "NHWC"] | None = Field(None, description="As face.onnx_layout.")
    mean: tuple[float, float, float] | None = Field(None, description="As face.onnx_mean.")
    std: tuple[float, float, float] | None = Field(None, description="As face.onnx_std.")

    def face_config(self) -> Any:
        """The unit's face settings for this model (core.config.FaceConfig)."""

        return FaceConfig(
            embedder="onnx",
            onnx_model=self.path,
            onnx_input_name=self.input_name,
            onnx_output_name=self.output_name,
            onnx_colour=self.colour,
            onnx_layout=self.layout,
            onnx_mean=self.mean,
            onnx_std=self.std,
        )


class ServerConfig(_Section):
    database_url: str = Field(
        DEFAULT_DATABASE_URL, min_length=9, description="sqlite:///path/to/server.db or postgresql://user@host/db."
    )
    host: str = Field("127.0.0.1", description="Address to listen on.")
    port: int = Field(8443, ge=0, le=65535, description="Port to listen on (0: any free port, printed at start).")
    tls_cert_file: Path | None = Field(None, description="Server certificate chain (PEM). Required unless allow_plain_http.")
    tls_key_file: Path | None = Field(None, description="Key of the server certificate (PEM).")
    client_ca_file: Path | None = Field(None, description="When set, units must present a client certificate from this CA.")
    allow_plain_http: bool = Field(False, description="Serve plain HTTP (loopback tests only).")
    signature_window_s: float = Field(
        300.0, ge=5, le=3600, description="How far a request's signed time may be from the server's clock."
    )
    token_valid_hours: float = Field(72.0, gt=0, le=24 * 365, description="Lifetime of a provisioning token.")
    title: str = Field("Server Presensi", max_length=80, description="Title of the device page.")
    admin_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        max_length=50,
        description=(
            "Networks (CIDR) from which the admin pages (devices, punches, events, reports) may be opened; "
            "every other address gets 403. The /v1 API for units is open to all (each request is signed). "
            "Default: this machine only (open them through an SSH tunnel, or name the BKPSDM network)."
        ),
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        max_length=20,
        description=(
            'Addresses of reverse proxies in front of this server (e.g. ["127.0.0.1"] for nginx on the same machine): '
            "their X-Forwarded-For names the client that admin_networks judges, and a request through them without "
            "it is refused the pages. Empty: no proxy; every connection is judged by its own address."
        ),
    )
    open_pages: bool = Field(
        False,
        description="Serve the device and event pages and /admin/events without a login (a loopback demo or tests only); "
        "otherwise they need a BKPSDM back-office session (/kantor/masuk).",
    )
    faults: FaultInjection = Field(default_factory=FaultInjection, description="Deliberate failures for tests.")
    face_models: list[FaceModel] = Field(
        default_factory=list,
        description="ONNX face models the units use, beside dlib: each enrolment makes a template with every one.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: list[str]) -> list[str]:
        for address in value:
            try:
                ipaddress.ip_address(address)
            except ValueError as exc:
                raise ValueError(f"{address!r} is not an IP address (the proxy's own address, e.g. 127.0.0.1)") from exc
        return value

    @field_validator("admin_networks")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"{network!r} is not a network (write it as 10.20.0.0/16 or 192.168.1.7/32)") from exc
        return value


def admin_networks(config: ServerConfig) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in config.admin_networks]


def load_server_config(path: Path | None = None) -> ServerConfig:
    """The file named, else ``$PRESENSI_SERVER_CONFIG``, else the defaults."""
    if path is None and os.environ.get("PRESENSI_SERVER_CONFIG"):
        path = Path(os.environ["PRESENSI_SERVER_CONFIG"])
    if path is None:
        return ServerConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = ServerConfig.model_validate(raw)
    except ValidationError as exc:
        problems = format_problems(exc)
        raise ConfigError(f"{path}: {len(problems)} problem(s) in the server configuration", problems) from exc
    for name in ("tls_cert_file", "tls_key_file", "client_ca_file"):
        value = getattr(config, name)
        if value is not None and not value.is_absolute():
            setattr(config, name, (path.parent / value).resolve())
    for model in config.face_models:
        if not model.path.is_absolute():
            model.path = (path.parent / model.path).resolve()
    return config
