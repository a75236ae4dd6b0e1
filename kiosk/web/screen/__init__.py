"""The kiosk screen: live decisions, camera preview, status."""
