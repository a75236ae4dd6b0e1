"""ZhianTec / Synochip modules (R305, R307, R503, AS608, ZFM-20, FPM10A): codec, driver, simulator."""
