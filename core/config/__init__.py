"""One typed configuration tree, loaded from TOML.

Every section forbids unknown keys, and every field has a default, bounds where they make sense,
and a description (``presensi config show --describe`` prints them). A unit runs on the built-in
defaults with no file at all. Secrets are never in the file itself: fields ending in ``_file``
point at files (or systemd credentials in ``$CREDENTIALS_DIRECTORY``) read by the loader.

Sections owned by a subsystem live in this package (``devices``, ``services``) so that one
``config check`` sees the whole tree; everything is imported from ``core.config``.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, Field, ValidationError

from core.config.base import DEFAULT_CONFIG_PATH, DEFAULT_DATA_DIR, Section, secret
from core.config.devices import (
    CameraConfig,
    CardsConfig,
    ClockConfig,
    FaceConfig,
    FingerprintConfig,
    GpioConfig,
    LivenessConfig,
    StoreConfig,
    UnitConfig,
)
from core.config.services import (
    AdmsTargetConfig,
    EventConfig,
    FrappeTargetConfig,
    PrivacyConfig,
    ScheduleConfig,
    SyncConfig,
    TargetConfig,
    WebConfig,
    Zk4370Config,
    default_key_file,
)
from core.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "DEFAULT_DATA_DIR",
    "AdmsTargetConfig",
    "CameraConfig",
    "CardsConfig",
    "ClockConfig",
    "EventConfig",
    "FaceConfig",
    "FingerprintConfig",
    "FrappeTargetConfig",
    "GpioConfig",
    "KioskConfig",
    "LivenessConfig",
    "PrivacyConfig",
    "ScheduleConfig",
    "Section",
    "StoreConfig",
    "SyncConfig",
    "TargetConfig",
    "UnitConfig",
    "WebConfig",
    "Zk4370Config",
    "config_path",
    "default_key_file",
    "describe",
    "format_problems",
    "load_config",
    "parse_config",
    "read_secret",
    "redacted",
    "secret",
]


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


#: No setting nests deeper than a few levels (a table of work codes of tables of days); a
#: configuration nested deeper is hostile or broken and is refused before validation.
MAX_NESTING = 16


def _nesting(value: object) -> int:
    """How deeply tables and arrays nest in ``value`` (without recursion)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def parse_config(text: str, source: Path | None = None) -> KioskConfig:
    """Validate TOML text; raises :class:`ConfigError` listing every problem."""
    where = str(source) if source else "<config>"
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", [f"(file): not valid TOML: {exc} (expected TOML syntax)"]) from exc
    except RecursionError as exc:  # arrays or tables nested thousands deep: no configuration is
        why = f"values nested deeper than {MAX_NESTING} levels"
        raise ConfigError(f"{where}: not a configuration: {why}", [f"(file): {why}; remove the nesting"]) from exc
    except ValueError as exc:  # an integer of thousands of digits (int_max_str_digits)
        why = f"a number too long to be a setting ({exc})"
        raise ConfigError(f"{where}: not a configuration: {why}", [f"(file): {why}; write a number of usual size"]) from exc
    if _nesting(raw) > MAX_NESTING:
        why = f"values nested deeper than {MAX_NESTING} levels"
        raise ConfigError(f"{where}: not a configuration: {why}", [f"(file): {why}; remove the nesting"])
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
