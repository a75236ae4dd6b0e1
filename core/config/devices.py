"""The sections of the unit and its devices: unit, store, clock, camera, face, liveness, cards,
fingerprint module and GPIO."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from core.clock import ZONES
from core.config.base import Section, secret


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
    staff_id_pattern: str = Field(
        "",
        max_length=200,
        description=(
            "Regular expression for the ids of staff without a NIP (PPPK, honorer), e.g. 'P3K-[0-9]{4}'; "
            "empty: only 18-digit NIPs (dates checked) are accepted on the maintenance page."
        ),
    )

    @field_validator("staff_id_pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        return value

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


@dataclass(frozen=True)
class MatchRules:
    """One embedder's distances: accept under ``threshold`` with ``margin`` to the next employee,
    verify a card holder under ``verify_threshold``, lookalikes under ``lookalike``, and each
    employee's own limit ``gap`` below their nearest other employee."""

    threshold: float
    margin: float
    verify_threshold: float
    lookalike: float
    gap: float


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
    lookalike_distance: float = Field(
        0.42,
        gt=0,
        lt=1.0,
        description="Two employees whose templates are closer than this are lookalikes: listed, and punched by card "
        "then face until re-enrolment separates them (dlib; measured in docs/face.md).",
    )
    threshold_gap: float = Field(
        0.08,
        ge=0,
        lt=0.5,
        description="An employee's face is accepted only under min(threshold, nearest other employee − this gap) (dlib).",
    )
    embedder: Literal["dlib", "onnx"] = Field(
        "dlib",
        description="What turns a face into a template: dlib's network (built in) or an ArcFace-style ONNX model "
        "(onnx_model). Templates of one never meet the other: changing it means enrolling everyone again.",
    )
    onnx_model: Path | None = Field(
        None,
        description="The 112×112 ArcFace-style ONNX model for embedder='onnx': a file the operator has the rights to "
        "(docs/install.md). Its input contract is read from MODEL.json beside it, else from the onnx_* fields.",
    )
    onnx_input_name: str | None = Field(None, max_length=100, description="Input name (default: the model's only input).")
    onnx_output_name: str | None = Field(None, max_length=100, description="Output name (default: the model's only output).")
    onnx_colour: Literal["RGB", "BGR"] | None = Field(None, description="Channel order the model expects (default RGB).")
    onnx_layout: Literal["NCHW", "NHWC"] | None = Field(None, description="Tensor layout (default NCHW).")
    onnx_mean: tuple[float, float, float] | None = Field(
        None, description="Per-channel mean subtracted from pixels/255 (default 0.5, 0.5, 0.5)."
    )
    onnx_std: tuple[float, float, float] | None = Field(
        None, description="Per-channel divisor after the mean (default 0.5, 0.5, 0.5)."
    )
    onnx_flip: bool = Field(False, description="Average the template of the face and of its mirror image (onnx; ~2× the time).")
    onnx_threshold: float = Field(
        1.0,
        gt=0.1,
        lt=2.0,
        description="embedder='onnx': largest distance accepted as a match (Euclidean on unit vectors: d = √(2 − 2·cosine)).",
    )
    onnx_margin: float = Field(0.08, ge=0.0, lt=1.0, description="embedder='onnx': least gap between best and best other.")
    onnx_verify_threshold: float = Field(
        1.0, gt=0.1, lt=2.0, description="embedder='onnx': card then face, largest distance accepted as the card holder."
    )
    onnx_lookalike_distance: float = Field(
        0.9, gt=0, lt=2.0, description="embedder='onnx': employees closer than this are lookalikes (see lookalike_distance)."
    )
    onnx_threshold_gap: float = Field(0.1, ge=0, lt=1.0, description="embedder='onnx': see threshold_gap.")
    detector: Literal["hog", "yunet"] = Field(
        "hog",
        description="Face detector: dlib's HOG (built in) or YuNet (yunet_model; faster, finds turned and small faces, "
        "gives the five alignment points).",
    )
    yunet_model: Path | None = Field(None, description="Path of face_detection_yunet_2023mar.onnx for detector='yunet'.")
    yunet_score: float = Field(0.7, gt=0, lt=1, description="Least YuNet score for a face.")
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

    @model_validator(mode="after")
    def _models_given(self) -> FaceConfig:
        if self.embedder == "onnx" and self.onnx_model is None:
            raise ValueError("embedder = 'onnx' needs onnx_model (the path of a model file you have the rights to)")
        if self.detector == "yunet" and self.yunet_model is None:
            raise ValueError("detector = 'yunet' needs yunet_model (the path of face_detection_yunet_2023mar.onnx)")
        return self

    @property
    def rules(self) -> MatchRules:
        """The match rules of the configured embedder."""
        if self.embedder == "onnx":
            return MatchRules(
                self.onnx_threshold,
                self.onnx_margin,
                self.onnx_verify_threshold,
                self.onnx_lookalike_distance,
                self.onnx_threshold_gap,
            )
        return MatchRules(self.threshold, self.margin, self.verify_threshold, self.lookalike_distance, self.threshold_gap)

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
    challenge: Literal["face_only", "auto", "always", "never"] = Field(
        "always",
        description=(
            "Ask a head-turn challenge: 'always' on every face punch, face-only (1:N) and card then face (1:1); "
            "'face_only' on every face-only punch and, for card then face, only when the passive checks are unsure "
            "(real prints pass that way: docs/liveness.md); 'auto' only when they are unsure; or 'never'."
        ),
    )
    challenge_prompts: list[Literal["left", "right", "blink"]] = Field(
        default_factory=lambda: ["left", "right"],  # type: ignore[arg-type]
        min_length=1,
        max_length=3,
        description=(
            "Prompts the challenge draws from at random: 'left' (Toleh ke kiri), 'right' (Toleh ke kanan), 'blink' "
            "(Kedipkan mata). Blink is off by default: a replayed video of a person blinks on its own (docs/liveness.md)."
        ),
    )
    challenge_timeout_s: float = Field(
        6.0, ge=1, le=30, description="Seconds the person has to do what the prompt asks; after that the approach is refused."
    )
    challenge_min_turn: float = Field(
        0.09,
        ge=0.03,
        le=0.5,
        description="Least change of the nose tip's position between the eyes (in eye-distance units) that counts as a head turn.",
    )
    challenge_min_parallax: float = Field(
        0.08,
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
