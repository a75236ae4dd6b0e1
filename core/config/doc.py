"""The configuration reference (docs/configuration.md), written from the pydantic models themselves
so that it cannot drift from what ``config check`` accepts: ``presensi config show --markdown``."""

from __future__ import annotations

import json
import types
import typing
from typing import Any, Literal

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from core.config import KioskConfig

HEADER = """# Configuration reference

One TOML file: `--config FILE`, else `$PRESENSI_CONFIG`, else `/etc/presensi/kiosk.toml`; with
none, the built-in defaults below. Unknown keys are refused. `presensi config check FILE` prints
every problem as `key.path: what is wrong (expected …)` and exits 2; `presensi config show`
prints the effective configuration with secrets redacted. Relative paths are relative to the
file. Example files: `examples/office.toml`, `examples/event.toml`, `examples/demo.toml`.

*Written by `presensi config show --markdown > docs/configuration.md`; a test keeps it current.*
"""


def reference_markdown() -> str:
    lines = [HEADER]
    for section, field in KioskConfig.model_fields.items():
        if field.exclude:  # where the configuration was read from: not a setting
            continue
        model = _model_of(field.annotation)
        lines.append(f"\n## `[{section}]` — {field.description or ''}\n")
        if model is None:
            lines.append(_targets_note(field))
            continue
        lines += _table(model)
    return "\n".join(lines).rstrip() + "\n"


def _table(model: type[BaseModel], prefix: str = "") -> list[str]:
    rows = ["| key | default | allowed | what it does |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        rows.append(
            f"| `{prefix}{name}` | {_cell(_default(field))} | {_cell(_allowed(field))} | {_cell(field.description or '')} |"
        )
    return rows


def _targets_note(field: FieldInfo) -> str:
    parts = []
    for model in _union_models(field.annotation):
        kind = model.model_fields["type"].default
        parts.append(f'\n### `[[targets]]` with `type = "{kind}"`\n')
        parts += _table(model)
    return "Each entry is one table of `[[targets]]`:\n" + "\n".join(parts)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "(required)"
    extra = field.json_schema_extra
    if isinstance(extra, dict) and isinstance(extra.get("default_doc"), str):
        return str(extra["default_doc"])
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "(not set)"
    if isinstance(value, BaseModel):
        return "(section)"
    return f"`{json.dumps(value, default=str, ensure_ascii=False)}`"


def _allowed(field: FieldInfo) -> str:
    choices = _literal_values(field.annotation)
    if choices:
        return " · ".join(f"`{json.dumps(c)}`" for c in choices)
    bounds = []
    for meta in field.metadata:
        for attr, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None and isinstance(meta, annotated_types.BaseMetadata):
                bounds.append(f"{sign} {value:g}" if isinstance(value, float) else f"{sign} {value}")
        if isinstance(meta, annotated_types.MaxLen):
            bounds.append(f"at most {meta.max_length} long")
        if isinstance(meta, annotated_types.MinLen) and meta.min_length:
            bounds.append(f"at least {meta.min_length} long")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            bounds.append(f"matches `{pattern}`")
    return ", ".join(bounds) or _type_name(field.annotation)


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation) if a is not type(None)) + " (or unset)"
    if origin is list:
        (inner,) = typing.get_args(annotation) or (Any,)
        return f"list of {_type_name(inner)}"
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    names = {bool: "true/false", int: "integer", float: "number", str: "text"}
    if annotation in names:
        return names[annotation]
    return getattr(annotation, "__name__", str(annotation)).replace("PosixPath", "path").replace("Path", "path")


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) is Literal:
        return typing.get_args(annotation)
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        return _literal_values(args[0]) if args else ()
    return ()


def _model_of(annotation: Any) -> type[BaseModel] | None:
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _union_models(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for arg in typing.get_args(annotation):
        model = _model_of(arg)
        if model is not None:
            found.append(model)
        else:
            found += _union_models(arg)
    return found


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
