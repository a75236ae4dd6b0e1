"""Work code presets shipped with the package (TOML files read by core.schedule.workcodes)."""
