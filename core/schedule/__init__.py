"""Schedule rules: work codes, holidays, the classification of a punch, and event mode.

``workcodes`` holds the data (a regency's named work codes and the presets shipped for the
published schedules), ``holidays`` the days off, ``classify`` turns an instant into masuk /
pulang / terlambat / pulang cepat / di luar jadwal / lembur, ``events`` the signed event packs
(apel, senam, tausiyah), ``event_mode`` the kiosk's behaviour during an event and ``report`` the
attendance list at its end. See docs/schedule.md and docs/event-mode.md.
"""
