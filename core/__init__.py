"""The core every part of Presensi Kiosk stands on: errors, clock, ids, identity, timekeeping,
configuration, the store (schema and every table's reads and writes), schedule and admission,
sealing and keys, the template formats, the wire protocol and request signing.

Nothing here imports kiosk, firmware_bridge or sync (an import-linter contract in pyproject.toml).
"""

__version__ = "0.1.0"
