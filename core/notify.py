"""The systemd notify protocol (``sd_notify``) and a watchdog that pings only while work gets done.

systemd starts a ``Type=notify`` service with ``$NOTIFY_SOCKET`` naming a unix datagram socket;
the service sends newline-separated ``KEY=value`` assignments to it: ``READY=1`` once it serves,
``STATUS=…`` for ``systemctl status``, ``WATCHDOG=1`` at least every ``WatchdogSec=`` (systemd
passes it as ``$WATCHDOG_USEC``), ``STOPPING=1`` when it shuts down. Implemented here by hand: a
datagram socket and a few lines, no library.

Every service uses it the same way::

    notifier = Notifier.from_env()
    watchdog = Watchdog(notifier, clock)          # clock: core.clock.Clock (SystemClock in services)
    with watchdog:                                 # starts the ticker thread; STOPPING=1 on exit
        notifier.ready("menunggu wajah")
        while not stop.is_set():
            handle_one_frame()                     # one turn of the main loop …
            watchdog.progress()                    # … then say so
            # an idle wait must not look like a stall: wait through the watchdog
            # watchdog.idle_wait(stop, seconds)

The ticker sends ``WATCHDOG=1`` only if :meth:`Watchdog.progress` was called within the last
half of ``WatchdogSec``. A main loop stuck on a camera read or a serial port stops calling it, the
pings stop, and systemd kills and restarts the service (``Restart=``). Outside systemd (no
``$NOTIFY_SOCKET``) every call is a no-op, so the same code runs on a laptop.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping
from types import TracebackType

from core.clock import Clock

log = logging.getLogger(__name__)

_NS_PER_USEC = 1000
_NS_PER_S = 1_000_000_000


class Notifier:
    """Sends notify messages to systemd's socket; does nothing when there is none.

    Sending never raises: a service must not die because systemd went away. The first failure is
    logged as a warning, later ones at debug level.
    """

    def __init__(self, address: str | None, *, watchdog_usec: int | None = None) -> None:
        self.address = address
        self.watchdog_usec = watchdog_usec if watchdog_usec and watchdog_usec > 0 else None
        self._sock: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, pid: int | None = None) -> Notifier:
        """The notifier systemd set up for this process (``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC``).

        ``$WATCHDOG_PID``, when set, names the process the watchdog is meant for; another
        process (a child that inherited the environment) gets no watchdog.
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        usec: int | None = None
        raw = env.get("WATCHDOG_USEC", "")
        owner = env.get("WATCHDOG_PID", "")
        me = os.getpid() if pid is None else pid
        if raw.isdigit() and (not owner or (owner.isdigit() and int(owner) == me)):
            usec = int(raw)
        return cls(address, watchdog_usec=usec)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    @property
    def watchdog_interval_ns(self) -> int | None:
        """``WatchdogSec=`` in nanoseconds, or None when the watchdog is off."""
        return None if self.watchdog_usec is None else self.watchdog_usec * _NS_PER_USEC

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=value`` lines as one datagram; True if it was sent."""
        if self.address is None or not assignments:
            return False
        for line in assignments:
            if "\n" in line or "=" not in line:
                raise ValueError(f"a notify assignment is one KEY=value line, got {line!r}")
        payload = "\n".join(assignments).encode()
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        with self._lock:
            try:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(payload, target)
            except OSError as exc:
                level = logging.DEBUG if self._warned else logging.WARNING
                self._warned = True
                log.log(level, "systemd notify to %s failed: %s", self.address, exc)
                return False
        return True

    def ready(self, status: str | None = None) -> bool:
        """The service is up and serving (``READY=1``)."""
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        """A one-line status shown by ``systemctl status`` (``STATUS=``)."""
        return self.send(f"STATUS={' '.join(text.splitlines())}")

    def watchdog(self) -> bool:
        """Keep-alive ping (``WATCHDOG=1``); :class:`Watchdog` decides when it is deserved."""
        return self.send("WATCHDOG=1")

    def extend_timeout(self, seconds: float) -> bool:
        """Ask for more start/stop time, e.g. during a long migration (``EXTEND_TIMEOUT_USEC=``)."""
        return self.send(f"EXTEND_TIMEOUT_USEC={int(seconds * 1_000_000)}")

    def stopping(self, status: str | None = None) -> bool:
        """The service is shutting down (``STOPPING=1``)."""
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None

    def __repr__(self) -> str:
        dog = f"{self.watchdog_usec / 1e6:g}s" if self.watchdog_usec else "off"
        return f"Notifier(address={self.address!r}, watchdog={dog})"


class Watchdog:
    """Pings systemd's watchdog only while the main loop reports progress.

    ``progress()`` is cheap (one clock read) and thread-safe; call it after each turn of the main
    loop. ``tick()`` sends ``WATCHDOG=1`` if the last progress is younger than ``fresh_ns``
    (half of ``WatchdogSec=`` unless given); the ticker thread started by :meth:`start` (or
    ``with watchdog:``) calls it every quarter of ``WatchdogSec=``.
    """

    def __init__(self, notifier: Notifier, clock: Clock, *, fresh_ns: int | None = None) -> None:
        self.notifier = notifier
        self.clock = clock
        interval = notifier.watchdog_interval_ns
        self.fresh_ns = fresh_ns if fresh_ns is not None else (interval // 2 if interval else None)
        self.period_s = interval / 4 / _NS_PER_S if interval else None
        self._last_progress_ns = clock.monotonic_ns()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stalled = False
        self.pings = 0

    @property
    def active(self) -> bool:
        """True when systemd asked for a watchdog."""
        return self.notifier.enabled and self.fresh_ns is not None

    def progress(self) -> None:
        """The main loop finished a turn (or waited idly on purpose)."""
        now = self.clock.monotonic_ns()
        with self._lock:
            self._last_progress_ns = now

    def idle_age_s(self) -> float:
        """Seconds since the last progress."""
        with self._lock:
            last = self._last_progress_ns
        return (self.clock.monotonic_ns() - last) / _NS_PER_S

    def tick(self) -> bool:
        """Ping if progress is fresh; True if a ping was sent."""
        if not self.active or self.fresh_ns is None:
            return False
        with self._lock:
            age = self.clock.monotonic_ns() - self._last_progress_ns
        if age > self.fresh_ns:
            if not self._stalled:
                self._stalled = True
                log.warning("main loop made no progress for %.1f s; withholding the watchdog ping", age / _NS_PER_S)
                self.notifier.status(f"macet: tidak ada kemajuan selama {age / _NS_PER_S:.0f} detik")
            return False
        if self._stalled:
            self._stalled = False
            log.info("main loop is making progress again")
        sent = self.notifier.watchdog()
        if sent:
            self.pings += 1
        return sent

    def idle_wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``event`` while reporting progress, so a deliberate idle
        wait (sync's pause between rounds) is not taken for a stall. True if the event was set."""
        remaining = max(0.0, seconds)
        step = self.fresh_ns / 2 / _NS_PER_S if self.fresh_ns else remaining
        while True:
            self.progress()
            if event.wait(min(step, remaining)):
                return True
            remaining -= step
            if remaining <= 0:
                self.progress()
                return False

    def start(self) -> Watchdog:
        """Start the ticker thread (nothing to start when systemd asked for no watchdog)."""
        if self.active and self.period_s is not None and self._thread is None:
            self._stop.clear()
            self.progress()
            self.tick()
            self._thread = threading.Thread(target=self._run, name="watchdog-ticker", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        assert self.period_s is not None
        while not self._stop.wait(self.period_s):
            self.tick()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Watchdog:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
        self.notifier.stopping()

    def __repr__(self) -> str:
        fresh = f"{self.fresh_ns / _NS_PER_S:g}s" if self.fresh_ns else "off"
        return f"Watchdog(fresh={fresh}, pings={self.pings}, running={self._thread is not None})"
