"""The configuration written back as TOML that ``tomllib`` (and ``load_config``) reads again:
``presensi config show`` and the demo's own configuration file use it."""

from __future__ import annotations

import json
from typing import Any


def toml_text(data: dict[str, Any]) -> str:
    """The configuration as TOML that ``tomllib`` reads back: tables, arrays of tables
    (``[[targets]]``), and unset keys as comments."""
    out: list[str] = []
    _table(out, [], data)
    return "\n".join(out) + "\n"


def _table(out: list[str], path: list[str], values: dict[str, Any]) -> None:
    tables: list[tuple[str, Any]] = []
    for key, value in values.items():
        if isinstance(value, dict) or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
            tables.append((key, value))
        elif value is None:
            out.append(f"# {_key(key)} = (not set)")
        else:
            out.append(f"{_key(key)} = {_value(value)}")
    for key, value in tables:
        here = [*path, _key(key)]
        if isinstance(value, dict):
            out.extend(["", f"[{'.'.join(here)}]"])
            _table(out, here, value)
        else:
            for item in value:
                out.extend(["", f"[[{'.'.join(here)}]]"])
                _table(out, here, item)


def _key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "_-" for c in key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None) + "}"
    return json.dumps(value, ensure_ascii=False)
