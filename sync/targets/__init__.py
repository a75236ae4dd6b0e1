"""Servers a unit can deliver to. ``presensi_v1`` is this project's own protocol; adapters for
servers that speak other protocols go beside it, one file each, with the same methods."""
