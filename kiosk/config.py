"""One typed configuration tree, loaded from TOML.

Every section forbids unknown keys, and every field has a default, bounds where they make sense,
and a description (``presensi config show --describe`` prints them). A unit runs on the built-in
defaults with no file at all. Secrets are never in the file itself: fields ending in ``_file``
point at files (or systemd credentials in ``$CREDENTIALS_DIRECTORY``) read by the loader.

Sections owned by a subsystem live here so that one ``config check`` sees the whole tree.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator, model_validator

from kiosk.clock import ZONES
from kiosk.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("/etc/presensi/kiosk.toml")
DEFAULT_DATA_DIR = Path("/var/lib/presensi")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def secret(description: str) -> Any:
    """A field whose value ``config show`` redacts."""
    return Field(default=None, description=description, json_schema_extra={"secret": True})


class UnitConfig(Section):
    name: str = Field("Kiosk Presensi", min_length=1, max_length=80, description="Name shown on screen and in reports.")
    unit_code: str = Field("", max_length=40, description="Office (unit kerja) code this kiosk belongs to; empty: any.")
    zone: str = Field(
        "Asia/Jakarta", description="IANA zone of the unit: Asia/Jakarta (WIB), Asia/Makassar (WITA), Asia/Jayapura (WIT)."
    )
    data_dir: Path | None = Field(
        None,
        description="Where the database and device key live. Default: $STATE_DIRECTORY under systemd, else /var/lib/presensi.",
    )
    hardware: Literal["real", "sim"] = Field(
        "real", description="'sim' runs every device on its simulator (laptop, demo, tests)."
    )
    language: Literal["id", "en"] = Field("id", description="Default language of the kiosk screen (Bahasa Indonesia first).")

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in ZONES:
            raise ValueError(f"unknown zone {value!r} (expected one of {', '.join(ZONES)})")
        return value


class StoreConfig(Section):
    busy_timeout_ms: int = Field(5000, ge=100, le=60000, description="How long a writer waits for another process's lock.")
    min_free_mb: int = Field(64, ge=1, le=100000, description="Free disk below which doctor warns and new punches are refused.")
    retention_days: int = Field(90, ge=7, le=3650, description="Days an acknowledged punch is kept on the unit before pruning.")


class ClockConfig(Section):
    unsynced_policy: Literal["accept", "refuse"] = Field(
        "accept", description="What to do with a punch while the clock is unsynced: accept and flag it, or refuse it."
    )
    max_offset_s: float = Field(
        120.0, ge=1, le=86400, description="Offset from the server's clock beyond which new punches are flagged unsynced."
    )
    state: Literal["system", "synced", "rtc", "unsynced"] = Field(
        "system", description="'system' asks the kernel; a fixed value is for the demo and tests."
    )


class CameraConfig(Section):
    source: Literal["picamera2", "v4l2", "file", "sim"] = Field("v4l2", description="Where frames come from.")
    path: Path | None = Field(None, description="Video file or image folder for source='file'.")
    device: int = Field(0, ge=0, le=63, description="V4L2 device index (/dev/videoN).")
    width: int = Field(640, ge=160, le=3840, description="Capture width in pixels.")
    height: int = Field(480, ge=120, le=2160, description="Capture height in pixels.")
    fps: float = Field(15.0, gt=0, le=60, description="Frame rate asked of the camera (or played from a file).")
    loop: bool = Field(True, description="Replay a file source from the start when it ends.")
    image_hold_s: float = Field(
        1.5, gt=0, le=60, description="For an image folder: seconds each picture stays in front of the camera."
    )


class FaceConfig(Section):
    """Face detection, tracking, quality gates and identification (docs/face.md explains the defaults)."""

    enabled: bool = Field(True, description="Punch by face.")
    detect_scale: float = Field(0.5, gt=0.05, le=1.0, description="Downscale factor applied before HOG detection.")
    upsample: int = Field(
        1, ge=0, le=2, description="HOG upsampling passes on the downscaled frame (1 at scale 0.5 finds faces from ~80 px)."
    )
    redetect_frames: int = Field(
        6,
        ge=1,
        le=60,
        description="Full-frame detection every this many frames; in between a tracked face is re-found near its box.",
    )
    track_lost_s: float = Field(0.8, gt=0, le=10, description="A tracked face unseen this long has left: its approach ends.")
    threshold: float = Field(
        0.5,
        gt=0.1,
        lt=1.0,
        description="Largest encoding distance accepted as a match (measured: genuine ≤ 0.44, others ≥ 0.70).",
    )
    margin: float = Field(0.06, ge=0.0, lt=0.5, description="Least distance gap between best and best other employee.")
    verify_threshold: float = Field(
        0.5,
        gt=0.1,
        lt=1.0,
        description="Card then face (1:1 against the card holder's templates): largest distance accepted as the card holder.",
    )
    agree_frames: int = Field(2, ge=1, le=10, description="Consecutive tracked frames that must agree on the identity.")
    decision_timeout_s: float = Field(
        8.0, gt=0, le=60, description="An approach with no decision after this long is refused with the reason so far."
    )
    duplicate_interval_s: int = Field(
        300, ge=0, le=86400, description="A second punch by the same employee within this many seconds is suppressed."
    )
    dominance_ratio: float = Field(
        0.5, gt=0, le=1, description="A second face at least this fraction of the largest face's area means 'Satu orang saja'."
    )
    min_eye_distance_px: int = Field(28, ge=8, le=400, description="Smallest eye distance (full-frame pixels) to accept a face.")
    min_sharpness: float = Field(30.0, ge=0, le=10000, description="Least variance of the Laplacian on the face crop.")
    min_brightness: float = Field(50.0, ge=0, le=255, description="Least mean brightness of the face crop.")
    max_brightness: float = Field(215.0, ge=0, le=255, description="Largest mean brightness of the face crop.")
    max_yaw_deg: float = Field(25.0, ge=5, le=60, description="Largest head turn accepted for identification.")
    max_pitch_deg: float = Field(25.0, ge=5, le=60, description="Largest head nod (up or down) accepted for identification.")
    frontal_yaw_deg: float = Field(
        15.0,
        ge=0,
        le=60,
        description="A face turned more than this (within max_yaw_deg) may be recognised, but matching nobody it is "
        "asked to face the camera instead of being judged unknown.",
    )
    enrol_samples: int = Field(3, ge=1, le=20, description="Quality-checked samples taken in a live camera enrolment.")

    @model_validator(mode="after")
    def _frontal_within_gate(self) -> FaceConfig:
        # Only a value given explicitly is refused: a configuration written before the setting,
        # with the gate tightened below 15°, follows the gate (frontal_limit_deg).
        if "frontal_yaw_deg" in self.model_fields_set and self.frontal_yaw_deg > self.max_yaw_deg:
            raise ValueError(
                f"frontal_yaw_deg ({self.frontal_yaw_deg:g}) is larger than max_yaw_deg ({self.max_yaw_deg:g}); "
                "expected at most max_yaw_deg"
            )
        return self

    @property
    def frontal_limit_deg(self) -> float:
        """The head turn within which a face can be judged unknown: frontal_yaw_deg, at most the gate."""
        return min(self.frontal_yaw_deg, self.max_yaw_deg)


class LivenessConfig(Section):
    """Liveness checks (``kiosk.liveness``): each check reads its own ``texture_*``, ``challenge_*``
    or ``cues_*`` fields; ``decide_*`` are the parameters of the rule that combines them."""

    minifasnet_v2: Path | None = Field(None, description="Path of MiniFASNetV2.onnx (crop 2.7× the face box).")
    minifasnet_v1se: Path | None = Field(None, description="Path of MiniFASNetV1SE.onnx (crop 4.0× the face box).")
    texture_threshold: float = Field(
        0.5, ge=0, le=1, description="Median 'real' probability of the passive model below which the face is refused as a spoof."
    )
    texture_confident: float = Field(
        0.9, ge=0, le=1, description="Above this the passive model alone is confident enough to skip the challenge."
    )
    texture_frames: int = Field(5, ge=1, le=30, description="Frames the passive model scores per approach (median over them).")
    texture_min_frames: int = Field(3, ge=1, le=30, description="Frames scored before the passive model's median is relied on.")
    texture_box_scale: float = Field(
        1.0,
        ge=0.8,
        le=1.6,
        description="Enlarge the detector's face box by this before the models' own crop scales (dlib's HOG box is tighter than the models' training detector).",
    )
    texture_threads: int = Field(1, ge=1, le=4, description="onnxruntime threads per model.")
    challenge: Literal["auto", "always", "never"] = Field(
        "auto", description="Ask a head-turn/blink challenge: only when passive checks are unsure, always, or never."
    )
    challenge_prompts: list[Literal["left", "right", "blink"]] = Field(
        default_factory=lambda: ["left", "right", "blink"],  # type: ignore[arg-type]
        min_length=1,
        max_length=3,
        description="Prompts the challenge draws from at random: 'left' (Toleh ke kiri), 'right' (Toleh ke kanan), 'blink' (Kedipkan mata).",
    )
    challenge_timeout_s: float = Field(
        6.0, ge=1, le=30, description="Seconds the person has to do what the prompt asks; after that the approach is refused."
    )
    challenge_min_turn: float = Field(
        0.12,
        ge=0.03,
        le=0.5,
        description="Least change of the nose tip's position between the eyes (in eye-distance units) that counts as a head turn.",
    )
    challenge_min_parallax: float = Field(
        0.06,
        ge=0.005,
        le=0.5,
        description="Least lead of the nose over the eye/mouth plane in the turn's direction (eye-distance units); a flat photo has none.",
    )
    challenge_blink_closed: float = Field(
        0.6,
        ge=0.1,
        le=0.95,
        description="Lid gap, as a share of where the open lids should be, below which the eyes count as closed.",
    )
    challenge_blink_open: float = Field(
        0.85, ge=0.3, le=1.5, description="Lid gap share above which the eyes count as open again (a blink closes, then opens)."
    )
    allow_challenge_only: bool = Field(
        False,
        description="Allow face punching with the challenge alone when a model file is missing (the challenge is then always asked).",
    )
    cues_enabled: bool = Field(True, description="Run the screen/print cue check (moiré, glare, border).")
    cues_moire_peak: float = Field(
        13.5,
        ge=2,
        le=100,
        description="Height (dB over the smoothed spectrum) of the strongest high-frequency peak from which a moiré/halftone grid counts.",
    )
    cues_glare_area: float = Field(
        0.15, ge=0.001, le=0.5, description="Largest share of the face area one saturated, colourless highlight may cover."
    )
    cues_border_sides: int = Field(
        3,
        ge=2,
        le=4,
        description="Straight edges on this many sides around the face (a paper or device frame) count as a border.",
    )
    cues_frames: int = Field(3, ge=1, le=30, description="Frames the cue check measures per approach (median over them).")
    cues_threshold: float = Field(0.5, ge=0, le=1, description="Cue score below which the face is refused as a screen or print.")


class CardsConfig(Section):
    reader: Literal["none", "pcsc", "evdev", "serial", "sim"] = Field("none", description="Card reader type.")
    device: str = Field(
        "",
        max_length=200,
        description="Reader name or part of it (pcsc; empty: the first reader), /dev/input node or name:<text> (evdev), serial port (serial).",
    )
    policy: Literal["card", "card_face", "face"] = Field(
        "card", description="Unit default: card only, card then face, face only."
    )
    decimal_em4100: bool = Field(True, description="Keyboard-wedge readers print the 10-digit decimal of the low 32 bits.")
    grab: bool = Field(True, description="Grab a keyboard-wedge reader so its digits never reach the console.")
    key_gap_ms: int = Field(
        100, ge=20, le=2000, description="Keyboard-wedge: a partial number is dropped when keys come further apart than this."
    )
    baud: int = Field(9600, ge=1200, le=115200, description="Serial (RDM6300) reader speed.")
    release_ms: int = Field(
        500, ge=100, le=5000, description="Serial reader: a card counts as taken away after this long without a frame."
    )
    duplicate_interval_s: int = Field(
        60,
        ge=0,
        le=86400,
        description="A card tap within this many seconds of the employee's last punch shows it instead of punching again.",
    )
    face_timeout_s: float = Field(8.0, ge=1, le=60, description="Card then face: how long the employee has to show their face.")
    enrol_timeout_s: int = Field(30, ge=5, le=600, description="Tap to register: how long the kiosk waits for the card.")
    reconnect_initial_s: float = Field(0.5, ge=0.01, le=60, description="First wait before reopening a reader that went away.")
    reconnect_max_s: float = Field(10.0, ge=0.05, le=600, description="Longest wait between attempts to reopen a reader.")


class FingerprintConfig(Section):
    module: Literal["none", "zhiantec", "gt521", "sim"] = Field(
        "none", description="Fingerprint module family; 'sim' runs a simulated module on a pty inside the bridge."
    )
    port: str = Field("/dev/serial0", max_length=200, description="Serial port of the module.")
    baud: int | None = Field(
        None,
        ge=9600,
        le=115200,
        description="Baud to try first; none: the family default (57600 ZhianTec, 9600 GT-521). Auto-detected across 9600×N when silent.",
    )
    autobaud: bool = Field(True, description="Try the other bauds when the module does not answer at the configured one.")
    password_file: Path | None = secret("File holding the module password (hex u32); none: password 0.")
    address: int = Field(0xFFFFFFFF, ge=0, le=0xFFFFFFFF, description="ZhianTec module address (4294967295 = FF FF FF FF).")
    timeout_s: float = Field(1.0, ge=0.1, le=10, description="How long to wait for the module's answer to one command.")
    index_bit_order: Literal["auto", "lsb", "msb"] = Field(
        "auto", description="Bit order of the ZhianTec index table; 'auto' probes it against a known slot (sources disagree)."
    )
    led: Literal["auto", "on", "off"] = Field("auto", description="Drive the module's LED (R503 Aura, GT-521 backlight).")
    module_id: str = Field("", max_length=200, description="Name of this module in the slot map; empty: family:port.")
    poll_ms: int = Field(100, ge=10, le=2000, description="Milliseconds between captures while no finger is on the glass.")
    duplicate_interval_s: int = Field(
        300, ge=0, le=86400, description="A second finger punch by the same employee within this many seconds is not recorded."
    )
    enrol_timeout_s: float = Field(30.0, ge=5, le=300, description="Seconds an enrolment waits for each capture.")
    backoff_initial_s: float = Field(0.5, ge=0.01, le=60, description="First wait before reconnecting to a silent module.")
    backoff_max_s: float = Field(30.0, ge=0.1, le=600, description="Longest wait between reconnection attempts.")
    sim_family: Literal["zhiantec", "gt521"] = Field("zhiantec", description="Family the simulated module speaks (module='sim').")
    sim_model: Literal["r503", "r307"] = Field("r503", description="ZhianTec model the simulator imitates.")
    sim_library: Path | None = Field(
        None, description="File the simulated module keeps its templates in; none: fingerprint-sim.json in the data directory."
    )


class GpioConfig(Section):
    enabled: bool = Field(False, description="Drive LEDs, buzzer and relay through gpiozero.")
    backend: Literal["lgpio", "rpigpio", "mock"] = Field(
        "lgpio", description="gpiozero pin factory: lgpio (Raspberry Pi OS), rpigpio (older images) or mock (no hardware)."
    )
    green_led: int | None = Field(None, ge=0, le=27, description="BCM pin of the green LED.")
    red_led: int | None = Field(None, ge=0, le=27, description="BCM pin of the red LED.")
    buzzer: int | None = Field(None, ge=0, le=27, description="BCM pin of the (active) buzzer.")
    relay: int | None = Field(None, ge=0, le=27, description="BCM pin of a door/turnstile relay.")
    relay_active_high: bool = Field(
        True, description="False for relay boards that switch on a low input (most opto-isolated ones)."
    )
    relay_pulse_ms: int = Field(500, ge=50, le=10000, description="How long the relay is held on an accepted punch.")
    buzzer_enabled: bool = Field(True, description="Sound the buzzer (off: lights only, e.g. in a library or a prayer room).")

    @model_validator(mode="after")
    def _distinct_pins(self) -> GpioConfig:
        pins = [(name, getattr(self, name)) for name in ("green_led", "red_led", "buzzer", "relay")]
        used: dict[int, str] = {}
        for name, pin in pins:
            if pin is None:
                continue
            if pin in used:
                raise ValueError(f"BCM pin {pin} is given to both {used[pin]} and {name} (expected a different pin for each)")
            used[pin] = name
        return self


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
    lockout_after: int = Field(5, ge=2, le=50, description="Consecutive failed logins (per name or address) before a lockout.")
    lockout_base_s: float = Field(30.0, ge=1, le=3600, description="First lockout; each further failure doubles it.")
    lockout_max_s: float = Field(3600.0, ge=10, le=86400, description="Longest lockout.")
    tls_hostnames: list[str] = Field(
        default_factory=lambda: ["presensi.local"], max_length=10, description="Extra DNS names in the self-signed certificate."
    )
    log_file: Path | None = Field(None, description="Log file shown on the maintenance page; none: the systemd journal.")
    usb_root: Path = Field(Path("/media"), description="Where USB sticks are mounted (one folder per stick) for exports.")
    services: list[str] = Field(
        default_factory=lambda: ["presensi-kiosk", "presensi-bridge", "presensi-sync"],
        max_length=10,
        description="systemd units the maintenance page may restart.",
    )
    probe_timeout_s: float = Field(3.0, ge=0.2, le=30, description="Timeout of each step of the server reachability probe.")


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
    comm_key_file: Path | None = secret("File holding the numeric comm key clients must send (none: no key).")
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
        True, description="Apply the server's DATA UPDATE/DELETE USERINFO commands to the unit's roster (allow-listed)."
    )
    interval_s: float = Field(10.0, ge=1, le=3600, description="Seconds between polls when the server gives no Delay.")


TargetConfig = Annotated[FrappeTargetConfig | AdmsTargetConfig, Field(discriminator="type")]


class KioskConfig(Section):
    """The whole configuration of one unit."""

    unit: UnitConfig = Field(default_factory=UnitConfig, description="The unit itself.")
    store: StoreConfig = Field(default_factory=StoreConfig, description="The punch store.")
    clock: ClockConfig = Field(default_factory=ClockConfig, description="Clock trust.")
    camera: CameraConfig = Field(default_factory=CameraConfig, description="The camera.")
    face: FaceConfig = Field(default_factory=FaceConfig, description="Face detection and identification.")
    liveness: LivenessConfig = Field(default_factory=LivenessConfig, description="Liveness checks.")
    cards: CardsConfig = Field(default_factory=CardsConfig, description="Card reader.")
    fingerprint: FingerprintConfig = Field(default_factory=FingerprintConfig, description="Fingerprint module.")
    gpio: GpioConfig = Field(default_factory=GpioConfig, description="LEDs, buzzer, relay.")
    sync: SyncConfig = Field(default_factory=SyncConfig, description="Central server.")
    web: WebConfig = Field(default_factory=WebConfig, description="Kiosk screen and maintenance page.")
    event: EventConfig = Field(default_factory=EventConfig, description="Event mode (apel, senam).")
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig, description="Work codes and holidays.")
    privacy: PrivacyConfig = Field(default_factory=PrivacyConfig, description="Biometric data at rest.")
    zk4370: Zk4370Config = Field(default_factory=Zk4370Config, description="ZKTeco port-4370 server for connector applications.")
    targets: list[TargetConfig] = Field(
        default_factory=list, description="Other servers punches are delivered to, each with its own cursor ([[targets]] tables)."
    )

    #: Where the file came from (None: built-in defaults); not a configuration key.
    source: Annotated[Path | None, Field(exclude=True)] = None

    def data_dir(self, override: Path | None = None) -> Path:
        """The data directory: ``--data-dir``, else the config, else $STATE_DIRECTORY, else the default."""
        if override is not None:
            return override
        if self.unit.data_dir is not None:
            return self.unit.data_dir
        state = os.environ.get("STATE_DIRECTORY")
        if state:
            return Path(state.split(":")[0])
        return DEFAULT_DATA_DIR


_TYPE_NAMES = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "string": "a quoted string",
    "path": "a path string",
    "model": "a table",
    "dict": "a table",
}


def _expected(error: Any) -> str:
    kind: str = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        return "remove it, or check its spelling"
    if kind == "literal_error":
        return f"one of {ctx.get('expected', '')!s}"
    for bound, word in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if bound in ctx:
            return f"a value {word} {ctx[bound]}"
    if kind.endswith("_type") or kind.endswith("_parsing"):
        name = kind.removesuffix("_parsing").removesuffix("_type")
        return _TYPE_NAMES.get(name, name.replace("_", " "))
    if kind == "missing":
        return "a value"
    return "see `presensi config show --describe`"


def format_problems(exc: ValidationError) -> list[str]:
    """One line per problem: ``key.path: what is wrong (expected …)``."""
    lines = []
    for error in exc.errors():
        path = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        if "(expected" not in message:
            message = f"{message} (expected {_expected(error)})"
        lines.append(f"{path}: {message}")
    return lines


def parse_config(text: str, source: Path | None = None) -> KioskConfig:
    """Validate TOML text; raises :class:`ConfigError` listing every problem."""
    where = str(source) if source else "<config>"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", [f"(file): not valid TOML: {exc} (expected TOML syntax)"]) from exc
    try:
        config = KioskConfig.model_validate(raw)
    except ValidationError as exc:
        problems = format_problems(exc)
        raise ConfigError(f"{where}: {len(problems)} problem(s) in the configuration", problems) from exc
    config.source = source
    if source is not None:
        config = _resolve_relative_paths(config, source.parent)
    return config


def _resolve_relative_paths(config: KioskConfig, base: Path) -> KioskConfig:
    """Relative paths in a file are relative to that file, so example configs work from anywhere."""
    for section_name in type(config).model_fields:
        section = getattr(config, section_name)
        if not isinstance(section, BaseModel):
            continue
        for name in type(section).model_fields:
            value = getattr(section, name)
            if isinstance(value, Path) and not value.is_absolute():
                setattr(section, name, (base / value).resolve())
    return config


def config_path(explicit: Path | None = None) -> Path | None:
    """``--config``, else ``$PRESENSI_CONFIG``, else the system file if it exists, else None."""
    if explicit is not None:
        return explicit
    env = os.environ.get("PRESENSI_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None


def load_config(explicit: Path | None = None) -> KioskConfig:
    """The effective configuration; built-in defaults when no file is named or present."""
    path = config_path(explicit)
    if path is None:
        return KioskConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file", [f"(file): {path} does not exist (expected a readable TOML file)"]) from exc
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot read: {exc}", [f"(file): cannot read {path}: {exc.strerror} (expected a readable TOML file)"]
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8", ["(file): not UTF-8 text (expected a UTF-8 TOML file)"]) from exc
    return parse_config(text, path)


def read_secret(path: Path | None) -> str | None:
    """A secret from a file; a bare name is looked up in ``$CREDENTIALS_DIRECTORY`` first."""
    if path is None:
        return None
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and not path.is_absolute() and (Path(creds) / path).exists():
        path = Path(creds) / path
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read secret file {path}: {exc.strerror}") from exc


def redacted(config: KioskConfig) -> dict[str, Any]:
    """The effective configuration as plain data, secrets replaced by '***'."""
    data = config.model_dump(mode="json")
    for section_name, section_model in type(config).model_fields.items():
        annotation = section_model.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            continue
        for name, field in annotation.model_fields.items():
            extra = field.json_schema_extra
            if isinstance(extra, dict) and extra.get("secret") and data[section_name].get(name) is not None:
                data[section_name][name] = "***"
    return data


def describe() -> list[tuple[str, str, str]]:
    """(key, default, description) for every field, for ``config show --describe``."""
    rows = []
    for section_name, section_field in KioskConfig.model_fields.items():
        annotation = section_field.annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            continue
        for name, field in annotation.model_fields.items():
            rows.append((f"{section_name}.{name}", repr(field.get_default(call_default_factory=True)), field.description or ""))
    return rows
