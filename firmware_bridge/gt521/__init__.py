"""ADH-Tech GT-521F32 / GT-521F52 modules: codec, driver, simulator."""
