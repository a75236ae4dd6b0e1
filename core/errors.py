"""The project's one exception root and its families.

Every error a user can meet derives from :class:`PresensiError`, carries a message that says
what to do next, and, where one fits, also inherits the matching built-in so callers that only
know the built-in still catch it. ``screen_text`` is the short Bahasa Indonesia line the kiosk
screen shows when the error reaches an employee.
"""

from __future__ import annotations


class PresensiError(Exception):
    """Root of every error raised by Presensi Kiosk."""

    screen_text = "Terjadi kesalahan — hubungi teknisi"

    def __init__(self, message: str, *, screen_text: str | None = None) -> None:
        super().__init__(message)
        if screen_text is not None:
            self.screen_text = screen_text


class ConfigError(PresensiError, ValueError):
    """The configuration is malformed or out of bounds; ``problems`` lists each one."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class StorageError(PresensiError, OSError):
    """The punch store cannot do what was asked."""

    screen_text = "Penyimpanan bermasalah — hubungi teknisi"


class StorageFullError(StorageError):
    """The disk or the database is full; nothing new can be recorded."""

    screen_text = "Penyimpanan penuh — hubungi teknisi"


class ChainError(StorageError):
    """The punch chain does not verify; ``seq`` names the first bad sequence number."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class IdentityError(PresensiError):
    """The device key is missing, unreadable or exposed."""


class ClockError(PresensiError):
    """The clock cannot be trusted for what was asked."""

    screen_text = "Jam perangkat belum tersinkron — hubungi teknisi"


class DeviceError(PresensiError, OSError):
    """A hardware device (camera, reader, module) failed or is absent."""


class DeviceTimeout(DeviceError, TimeoutError):
    """A device did not answer in time."""


class ProtocolError(DeviceError):
    """A device or peer sent bytes that do not follow its protocol."""


class FaceError(PresensiError):
    """The face pipeline could not complete (model missing, bad image…)."""


class LivenessError(FaceError):
    """Liveness could not be judged; face-only punching must be refused."""


class EnrolmentError(PresensiError):
    """An enrolment was refused (poor samples, duplicate face, unknown employee)."""


class SyncError(PresensiError):
    """Talking to the central server failed."""


class AuthError(PresensiError, PermissionError):
    """Authentication or authorisation failed."""


class CardUidError(PresensiError, ValueError):
    """A card number is in none of the accepted forms (hex UID, EM4100 decimal)."""

    screen_text = "Kartu tidak terbaca — tempelkan lagi"


class AttendanceError(PresensiError, ValueError):
    """A keterangan, a pembatalan kehadiran or a recap was refused (the server's back office);
    ``screen_text`` says why in Indonesian, the message in English."""
