"""The sections of the services around the punch: sync, web, event mode, schedule, privacy, the
port-4370 server and the other delivery targets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from core.config.base import Section, is_loopback, secret
from core.privileged_protocol import UNITS


class SyncConfig(Section):
    enabled: bool = Field(False, description="Upload punches to the central server (provisioning also turns this on).")
    server_url: str = Field("", max_length=400, description="Base URL of the central server (https://…).")
    ca_file: Path | None = Field(None, description="CA certificate pinned for the server.")
    client_cert_file: Path | None = Field(None, description="Optional client certificate (PEM).")
    client_key_file: Path | None = secret("Key of the optional client certificate (PEM).")
    batch_size: int = Field(500, ge=1, le=10000, description="Punches per upload request.")
    interval_s: float = Field(15.0, ge=1, le=3600, description="Seconds between sync rounds when idle.")
    backoff_base_s: float = Field(
        2.0, ge=0.01, le=600, description="First wait after a failure; doubles per failure, with jitter."
    )
    backoff_max_s: float = Field(300.0, ge=0.05, le=86400, description="Longest wait between retries.")
    roster_interval_s: float = Field(300.0, ge=5, le=86400, description="Seconds between roster downloads.")
    compress: bool = Field(True, description="Compress upload bodies with gzip.")
    heartbeat_s: float = Field(60.0, ge=5, le=3600, description="Seconds between health heartbeats.")
    timeout_s: float = Field(20.0, ge=1, le=300, description="Per-request timeout.")
    allow_plain_http: bool = Field(False, description="Permit http:// (only for a loopback test server).")
    bundle_corrections: bool = Field(
        True,
        description="Put the time corrections in flash-disk bundles (corrections.jsonl); false for a central "
        "server older than 2026-11 that accepts only three-member bundles.",
    )


class WebConfig(Section):
    screen_host: str = Field("127.0.0.1", description="Address of the kiosk screen (local Chromium only).")
    screen_port: int = Field(8080, ge=1, le=65535, description="Port of the kiosk screen.")
    maintenance_host: str = Field(
        "0.0.0.0",  # noqa: S104 - the LAN page, behind TLS and a login
        description="Address of the maintenance page (LAN).",
    )
    maintenance_port: int = Field(8443, ge=1, le=65535, description="Port of the maintenance page (TLS).")
    screen_frame_ancestors: list[Annotated[str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.-]+(:(\d{1,5}|\*))?$")]] = Field(
        default_factory=list,
        max_length=4,
        description="Origins that may show the kiosk screen in a frame (the demo's control panel: http://127.0.0.1:*); empty: none.",
    )
    session_minutes: int = Field(30, ge=1, le=1440, description="Idle minutes before a maintenance session expires.")
    session_max_hours: int = Field(12, ge=1, le=168, description="Hours after login when a maintenance session ends regardless.")
    lockout_after: int = Field(
        5, ge=2, le=50, description="Consecutive failed logins (per address, and per name) before a lockout."
    )
    lockout_base_s: float = Field(
        30.0,
        ge=1,
        le=3600,
        description="First lockout; each further failure from the address doubles it (a name alone is locked at most this long).",
    )
    lockout_max_s: float = Field(3600.0, ge=10, le=86400, description="Longest lockout.")
    tls_hostnames: list[str] = Field(
        default_factory=lambda: ["presensi.local"], max_length=10, description="Extra DNS names in the self-signed certificate."
    )
    log_file: Path | None = Field(None, description="Log file shown on the maintenance page; none: the systemd journal.")
    usb_root: Path = Field(Path("/media"), description="Where USB sticks are mounted (one folder per stick) for exports.")
    services: list[str] = Field(
        default_factory=lambda: ["presensi-kiosk", "presensi-bridge", "presensi-sync"],
        max_length=10,
        description="systemd units the maintenance page may restart and shows the logs of (the unit's own services only).",
    )
    probe_timeout_s: float = Field(3.0, ge=0.2, le=30, description="Timeout of each step of the server reachability probe.")

    @field_validator("services")
    @classmethod
    def _own_services(cls, value: list[str]) -> list[str]:
        strange = [name for name in value if name not in UNITS]
        if strange:
            raise ValueError(f"{', '.join(strange)}: not one of the unit's services ({', '.join(sorted(UNITS))})")
        return value


class EventConfig(Section):
    pack_file: Path | None = Field(None, description="Event pack to load at start (event mode).")
    unit: str = Field(
        "", max_length=20, description="This unit's code in event packs (I … IX); empty: from the pack's device list."
    )
    server_public_key: str = Field(
        "", description="The central server's Ed25519 public key (64 hex digits) that signs event packs; empty: only local packs."
    )
    early_minutes: int = Field(30, ge=0, le=240, description="Punches are taken this many minutes before an event starts.")
    grace_minutes: int = Field(0, ge=0, le=240, description="Punches are still taken this many minutes after an event ends.")

    @field_validator("server_public_key")
    @classmethod
    def _hex_key(cls, value: str) -> str:
        value = value.strip().lower()
        if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
            raise ValueError("not an Ed25519 public key (expected 64 hex digits)")
        return value


class ScheduleConfig(Section):
    default_work_code: str = Field(
        "", max_length=80, description="Work code for employees whose roster entry names none (a preset code or a roster code)."
    )
    fixed_national_holidays: bool = Field(
        True, description="Treat the fixed-date national holidays (1 Jan, 1 May, 1 Jun, 17 Aug, 25 Dec) as days off."
    )


def default_key_file() -> Path:
    """Where the template key file lives unless configured: /etc/presensi on an installed unit
    (the installer made /etc/presensi) or for root; otherwise the user's own configuration
    folder, so that `presensi enroll` works for a developer with no configuration at all.
    $PRESENSI_TEMPLATE_KEY_FILE overrides it (the test suite keeps its keys out of /etc)."""
    override = os.environ.get("PRESENSI_TEMPLATE_KEY_FILE")
    if override:
        return Path(override)
    if os.geteuid() == 0 or Path("/etc/presensi").is_dir():
        return Path("/etc/presensi/template.key")
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "presensi" / "template.key"


class PrivacyConfig(Section):
    key_provider: Literal["otp", "credential", "keyfile", "sim"] = Field(
        "keyfile",
        description="Where the template key comes from: the Pi's OTP customer key, a systemd credential, a key file outside the data directory, or a simulated OTP (tests).",
    )
    key_file: Path = Field(
        default_factory=default_key_file,
        description="Key file for key_provider='keyfile' (made on first use, mode 0600).",
        json_schema_extra={
            "default_doc": "/etc/presensi/template.key on an installed unit (or as root); else ~/.config/presensi/template.key"
        },
    )
    credential: str = Field(
        "presensi-template-key",
        min_length=1,
        max_length=100,
        description="Credential name in $CREDENTIALS_DIRECTORY for key_provider='credential'.",
    )
    otp_command: list[str] = Field(
        default_factory=lambda: ["rpi-otp-private-key"],
        description="Command printing the OTP customer key as hex (key_provider='otp'; needs /dev/vcio).",
    )
    sim_otp_hex: str = Field("", max_length=64, description="The simulated OTP key (64 hex digits) for key_provider='sim'.")
    evidence_photos: bool = Field(False, description="Keep an encrypted photo with each face punch (off by default).")
    evidence_days: int = Field(7, ge=0, le=90, description="Days an evidence photo is kept after its punch was acknowledged.")


class Zk4370Config(Section):
    enabled: bool = Field(False, description="Serve ZKTeco's port-4370 protocol for connector applications (off by default).")
    host: str = Field(
        "0.0.0.0",  # noqa: S104 - LAN only by the unit's firewall; off by default
        description="Address to listen on (the unit's LAN address; never expose it beyond the office network).",
    )
    port: int = Field(4370, ge=1, le=65535, description="TCP and UDP port.")
    comm_key_file: Path | None = secret(
        "File holding the numeric comm key clients must send; required unless host is a loopback address."
    )
    export_cards: bool = Field(
        False, description="Send card numbers with the users a client reads (a card number is what a cloned card needs)."
    )
    allow_set_time: bool = Field(
        False, description="Let a connector application set the unit's clock (recorded as a technician anchor)."
    )
    allow_clear_log: bool = Field(
        False,
        description="Let a connector application clear the log; even then only punches the central server acknowledged are pruned.",
    )
    central_target: str = Field(
        "presensi_v1", min_length=1, max_length=40, description="Sync target whose acknowledgements allow clearing."
    )
    states: dict[str, int] = Field(
        default_factory=dict,
        description=(
            "ZK attendance state per punch kind, over the defaults masuk 0, pulang 1, apel 0, senam 0 (0 check-in, "
            "1 check-out, 2 break-out, 3 break-in, 4 overtime-in, 5 overtime-out), e.g. {apel = 4}."
        ),
    )

    @field_validator("states")
    @classmethod
    def _zk_states(cls, value: dict[str, int]) -> dict[str, int]:
        wrong = {kind: state for kind, state in value.items() if not 0 <= state <= 5}
        if wrong:
            raise ValueError(f"ZK states are 0–5, not {wrong}")
        return value

    @model_validator(mode="after")
    def _key_off_loopback(self) -> Zk4370Config:
        if self.enabled and self.comm_key_file is None and not is_loopback(self.host):
            raise ValueError(
                f"port 4370 on {self.host} needs a comm key (comm_key_file): without one anyone on the LAN reads every "
                "NIP and punch; put a number in a file only presensi can read, or listen on 127.0.0.1"
            )
        return self


class FrappeTargetConfig(Section):
    type: Literal["frappe"] = Field("frappe", description="Frappe HR: Employee Checkin through add_log_based_on_employee_field.")
    name: str = Field(
        "frappe", min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$", description="Name of this target (its cursor)."
    )
    url: str = Field(..., min_length=8, max_length=400, description="Base URL of the Frappe site (https://…).")
    api_key_file: Path = Field(..., description="File holding the API key of the integration user.")
    api_secret_file: Path = Field(..., description="File holding the API secret of the integration user.")
    employee_fieldname: str = Field("attendance_device_id", max_length=80, description="Employee field that holds the NIP.")
    site_zone: str = Field("", max_length=60, description="IANA zone of the Frappe site's system time (empty: the unit's zone).")
    ca_file: Path | None = Field(None, description="CA to trust for the site (none: the system store).")
    allow_plain_http: bool = Field(False, description="Permit http:// (warned on the maintenance page).")
    interval_s: float = Field(30.0, ge=1, le=3600, description="Seconds between delivery rounds.")


class AdmsTargetConfig(Section):
    type: Literal["adms"] = Field("adms", description="A ZKTeco PUSH (ADMS) attendance server.")
    name: str = Field(
        "adms", min_length=1, max_length=40, pattern=r"^[a-z0-9_-]+$", description="Name of this target (its cursor)."
    )
    url: str = Field(
        ..., min_length=8, max_length=400, description="Base URL of the server (https://… ; http only with allow_plain_http)."
    )
    serial_number: str = Field("", max_length=40, description="SN the unit announces (empty: the device id).")
    ca_file: Path | None = Field(None, description="CA to trust for the server (none: the system store).")
    allow_plain_http: bool = Field(
        False, description="Permit http:// (many ADMS servers offer only that; warned on the maintenance page)."
    )
    apply_user_commands: bool = Field(
        False,
        description=(
            "Apply the server's DATA UPDATE/DELETE USERINFO commands (https only; never to employees or cards of the "
            "central roster or the maintenance page, never moving a card, never clearing codes)."
        ),
    )
    interval_s: float = Field(10.0, ge=1, le=3600, description="Seconds between polls when the server gives no Delay.")


TargetConfig = Annotated[FrappeTargetConfig | AdmsTargetConfig, Field(discriminator="type")]
