"""Presensi Kiosk: attendance kiosks for Indonesian local governments."""

__version__ = "0.1.0"
