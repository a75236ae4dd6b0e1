"""The kiosk screen (127.0.0.1) and the maintenance page (LAN, TLS, login)."""
