"""Green and red LEDs, the buzzer and an optional door/turnstile relay, through gpiozero.

The pin factory is passed in (gpiozero's ``MockFactory`` in tests and on laptops, lgpio on a Pi);
the class-level default factory is never touched. Timing goes through an injected
:class:`~kiosk.feedback.timeline.Scheduler`: steps at 0 ms happen inside :meth:`GpioFeedback.play`,
later ones when the scheduler runs them. A new pattern cancels what is left of the previous one
and starts from all outputs off, so a refusal right after an acceptance never leaves green lit.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from gpiozero.exc import GPIOZeroError

from core.config import GpioConfig
from core.errors import DeviceError
from kiosk.feedback.patterns import Output, PatternName, steps
from kiosk.feedback.timeline import Scheduler, ThreadScheduler, Timer

log = logging.getLogger(__name__)


class Feedback(Protocol):
    """What the card service (and the face pipeline) call after a decision."""

    def accepted(self) -> None: ...
    def rejected(self) -> None: ...
    def attention(self) -> None: ...


class NullFeedback:
    """No lights, no buzzer (GPIO disabled)."""

    def __init__(self) -> None:
        self.played: list[str] = []

    def accepted(self) -> None:
        self.played.append(PatternName.ACCEPTED)

    def rejected(self) -> None:
        self.played.append(PatternName.REJECTED)

    def attention(self) -> None:
        self.played.append(PatternName.ATTENTION)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return "NullFeedback()"


def make_pin_factory(backend: str) -> Any:
    """A gpiozero pin factory object for ``gpio.backend`` (never installed as the default)."""
    try:
        if backend == "mock":
            # late: gpiozero loads only when this runs
            from gpiozero.pins.mock import MockFactory

            return MockFactory()
        if backend == "lgpio":
            # late: gpiozero loads only when this runs
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        if backend == "rpigpio":
            # late: gpiozero loads only when this runs
            from gpiozero.pins.rpigpio import RPiGPIOFactory

            return RPiGPIOFactory()
    except (ImportError, OSError, RuntimeError) as exc:
        raise DeviceError(
            f"cannot use GPIO backend {backend!r}: {exc}; install python3-lgpio (or set gpio.backend), "
            "and add the service user to the 'gpio' group"
        ) from exc
    raise DeviceError(f"unknown GPIO backend {backend!r} (expected lgpio, rpigpio or mock)")


class GpioFeedback:
    def __init__(self, config: GpioConfig, *, pin_factory: Any, scheduler: Scheduler) -> None:
        # late: gpiozero loads only when this runs
        from gpiozero import LED, Buzzer, OutputDevice

        self.config = config
        self._scheduler = scheduler
        self._lock = threading.Lock()
        self._timers: list[Timer] = []
        self.played: list[str] = []
        self._outputs: dict[Output, Any] = {}
        try:
            if config.green_led is not None:
                self._outputs[Output.GREEN] = LED(config.green_led, pin_factory=pin_factory)
            if config.red_led is not None:
                self._outputs[Output.RED] = LED(config.red_led, pin_factory=pin_factory)
            if config.buzzer is not None and config.buzzer_enabled:
                self._outputs[Output.BUZZER] = Buzzer(config.buzzer, pin_factory=pin_factory)
            if config.relay is not None:
                self._outputs[Output.RELAY] = OutputDevice(
                    config.relay, active_high=config.relay_active_high, initial_value=False, pin_factory=pin_factory
                )
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            self.close()
            raise DeviceError(f"cannot claim the GPIO pins in [gpio]: {exc}; check that no other program uses them") from exc

    def accepted(self) -> None:
        self.play(PatternName.ACCEPTED)

    def rejected(self) -> None:
        self.play(PatternName.REJECTED)

    def attention(self) -> None:
        self.play(PatternName.ATTENTION)

    def play(self, name: PatternName | str) -> None:
        name = PatternName(name)
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers = []
            for device in self._outputs.values():
                device.off()
            for step in steps(name, relay_pulse_ms=self.config.relay_pulse_ms):
                device = self._outputs.get(step.output)
                if device is None:
                    continue
                action = device.on if step.on else device.off
                if step.at_ms == 0:
                    action()
                else:
                    self._timers.append(self._scheduler.call_later(step.at_ms / 1000, action))
            self.played.append(name)
        log.debug("feedback %s", name)

    def close(self) -> None:
        with self._lock:
            for timer in self._timers:
                timer.cancel()
            self._timers = []
            for device in self._outputs.values():
                try:
                    device.off()
                    device.close()
                except (GPIOZeroError, OSError, RuntimeError) as exc:  # closing must not stop the others from closing
                    log.debug("closing a GPIO output: %s", exc)
            self._outputs = {}

    def __repr__(self) -> str:
        outputs = ", ".join(f"{o.value}={getattr(d, 'pin', '?')}" for o, d in self._outputs.items())
        return f"GpioFeedback({outputs or 'no outputs'})"


def build_feedback(config: GpioConfig, *, simulated: bool = False, scheduler: Scheduler | None = None) -> Feedback:
    """The feedback of a unit: GPIO when enabled (the mock factory when ``simulated``), else none."""
    if not config.enabled:
        return NullFeedback()
    factory = make_pin_factory("mock" if simulated else config.backend)
    return GpioFeedback(config, pin_factory=factory, scheduler=scheduler or ThreadScheduler())
