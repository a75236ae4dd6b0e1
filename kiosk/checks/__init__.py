"""Doctor checks of subsystems, one module each, found by :func:`kiosk.doctor.run_checks`."""
