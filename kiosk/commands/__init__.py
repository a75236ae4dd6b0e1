"""Subcommands of ``presensi``; each module has ``register(subparsers, common)``."""
