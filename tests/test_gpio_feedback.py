"""LED, buzzer and relay sequences on gpiozero's MockFactory, timed by a manual scheduler (no sleeps).

The factory is passed to the feedback object; gpiozero's class-level default is never set, so
the check at the end proves no pin went through it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory

from core.config import GpioConfig, parse_config
from core.errors import ConfigError, DeviceError
from kiosk.feedback.gpio import GpioFeedback, NullFeedback, build_feedback, make_pin_factory
from kiosk.feedback.patterns import as_json, steps
from kiosk.feedback.timeline import ManualScheduler, ThreadScheduler

GREEN, RED, BUZZER, RELAY = 17, 27, 22, 23


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.close()


@pytest.fixture
def config() -> GpioConfig:
    return GpioConfig(enabled=True, backend="mock", green_led=GREEN, red_led=RED, buzzer=BUZZER, relay=RELAY, relay_pulse_ms=500)


def timeline(
    factory: MockFactory, scheduler: ManualScheduler, pin: int, until_ms: int, step_ms: int = 10
) -> list[tuple[int, bool]]:
    """(time in ms, state) at every change of ``pin``, sampled every ``step_ms`` of scheduler time."""
    changes: list[tuple[int, bool]] = []
    start = round(scheduler.now_s * 1000)
    state = bool(factory.pin(pin).state)
    changes.append((0, state))
    for _t in range(step_ms, until_ms + step_ms, step_ms):
        scheduler.advance(step_ms / 1000)
        now = bool(factory.pin(pin).state)
        if now != state:
            changes.append((round(scheduler.now_s * 1000) - start, now))
            state = now
    return changes


def test_accepted_green_one_beep_and_a_relay_pulse(config: GpioConfig) -> None:
    results = {}
    for pin in (GREEN, BUZZER, RELAY, RED):  # one run per pin: the timeline helper samples one pin
        factory, scheduler = MockFactory(), ManualScheduler()
        feedback = GpioFeedback(config, pin_factory=factory, scheduler=scheduler)
        feedback.accepted()
        results[pin] = timeline(factory, scheduler, pin, 2000)
        assert scheduler.pending == 0
        feedback.close()
        factory.close()
    assert results[GREEN] == [(0, True), (1500, False)]
    assert results[BUZZER] == [(0, True), (150, False)]
    assert results[RELAY] == [(0, True), (500, False)]
    assert results[RED] == [(0, False)]


def test_rejected_red_and_three_beeps(factory: MockFactory, config: GpioConfig) -> None:
    scheduler = ManualScheduler()
    feedback = GpioFeedback(config, pin_factory=factory, scheduler=scheduler)
    feedback.rejected()
    assert timeline(factory, scheduler, BUZZER, 1000) == [
        (0, True),
        (100, False),
        (200, True),
        (300, False),
        (400, True),
        (500, False),
    ]
    assert factory.pin(RED).state  # the red light outlasts the beeps
    scheduler.advance(1.0)
    assert not factory.pin(RED).state
    assert not factory.pin(RELAY).state and not factory.pin(GREEN).state


def test_attention_blinks_green_and_beeps_twice(factory: MockFactory, config: GpioConfig) -> None:
    scheduler = ManualScheduler()
    feedback = GpioFeedback(config, pin_factory=factory, scheduler=scheduler)
    feedback.attention()
    assert timeline(factory, scheduler, GREEN, 1000) == [(0, True), (200, False), (400, True), (600, False)]
    feedback.attention()
    assert timeline(factory, scheduler, BUZZER, 400) == [(0, True), (60, False), (120, True), (180, False)]


def test_a_new_pattern_cancels_the_rest_of_the_old_one(factory: MockFactory, config: GpioConfig) -> None:
    scheduler = ManualScheduler()
    feedback = GpioFeedback(config, pin_factory=factory, scheduler=scheduler)
    feedback.accepted()
    scheduler.advance(0.05)
    feedback.rejected()
    assert not factory.pin(GREEN).state, "green must go off at once when a refusal follows"
    assert not factory.pin(RELAY).state, "the door must not stay open for a refused punch"
    assert factory.pin(RED).state
    scheduler.advance(3.0)
    assert not any(factory.pin(p).state for p in (GREEN, RED, BUZZER, RELAY))
    assert feedback.played == ["accepted", "rejected"]


def test_active_low_relay_and_a_silenced_buzzer(factory: MockFactory) -> None:
    config = GpioConfig(enabled=True, green_led=GREEN, buzzer=BUZZER, relay=RELAY, relay_active_high=False, buzzer_enabled=False)
    scheduler = ManualScheduler()
    feedback = GpioFeedback(config, pin_factory=factory, scheduler=scheduler)
    assert factory.pin(RELAY).state  # idle: high, i.e. relay off on an active-low board
    feedback.accepted()
    assert not factory.pin(RELAY).state
    scheduler.advance(0.5)
    assert factory.pin(RELAY).state
    assert not factory.pin(BUZZER).state  # never driven
    assert "relay" in repr(feedback) and "buzzer" not in repr(feedback)


def test_only_configured_outputs_are_claimed(factory: MockFactory) -> None:
    feedback = GpioFeedback(GpioConfig(enabled=True, red_led=RED), pin_factory=factory, scheduler=ManualScheduler())
    feedback.accepted()  # nothing to light: no error
    feedback.rejected()
    assert factory.pin(RED).state
    feedback.close()
    feedback.close()  # idempotent


def test_a_pin_already_in_use_is_a_device_error(factory: MockFactory, config: GpioConfig) -> None:
    first = GpioFeedback(config, pin_factory=factory, scheduler=ManualScheduler())
    with pytest.raises(DeviceError, match="GPIO pins"):
        GpioFeedback(config, pin_factory=factory, scheduler=ManualScheduler())
    first.close()


def test_pins_must_differ_in_config() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config("[gpio]\nenabled = true\ngreen_led = 17\nrelay = 17\n")
    assert "given to both green_led and relay" in refused.value.problems[0]


def test_disabled_gpio_is_null_feedback_and_the_mock_backend_works_without_a_pi() -> None:
    assert isinstance(build_feedback(GpioConfig()), NullFeedback)
    scheduler = ManualScheduler()
    feedback = build_feedback(GpioConfig(enabled=True, backend="mock", green_led=GREEN), scheduler=scheduler)
    assert isinstance(feedback, GpioFeedback)
    feedback.accepted()
    feedback.close()
    assert isinstance(make_pin_factory("mock"), MockFactory)
    with pytest.raises(DeviceError, match="unknown GPIO backend"):
        make_pin_factory("wiringpi")


def test_the_default_pin_factory_was_never_set() -> None:
    assert Device.pin_factory is None


def test_thread_scheduler_runs_steps_in_order_without_the_test_sleeping() -> None:
    scheduler = ThreadScheduler()
    done = threading.Event()
    order: list[int] = []
    scheduler.call_later(0.02, lambda: order.append(2))
    scheduler.call_later(0.0, lambda: order.append(1))
    cancelled = scheduler.call_later(0.01, lambda: order.append(99))
    cancelled.cancel()
    scheduler.call_later(0.03, done.set)
    assert done.wait(5)
    scheduler.close()
    assert order == [1, 2]


def test_patterns_for_the_screen() -> None:
    data = as_json()
    assert set(data) == {"accepted", "rejected", "attention"}
    assert [b["on"] for b in data["rejected"]["beeps"]] == [True, False] * 3
    assert data["accepted"]["tone_hz"] > data["rejected"]["tone_hz"]
    assert all(a.at_ms <= b.at_ms for a, b in zip(steps("accepted"), steps("accepted")[1:], strict=False))


def test_card_service_drives_the_lights(factory: MockFactory, config: GpioConfig, store: object, clock: object) -> None:
    import queue

    from core.config import CardsConfig
    from kiosk.cards.service import CardAttempt, CardService
    from kiosk.cards.sim import SimCardReader

    scheduler = ManualScheduler()
    feedback = GpioFeedback(config, pin_factory=factory, scheduler=scheduler)
    reader = SimCardReader(clock=clock)  # type: ignore[arg-type]
    service = CardService(reader, store, config=CardsConfig(reader="sim"), clock=clock, feedback=feedback)  # type: ignore[arg-type]
    decisions: queue.Queue[CardAttempt] = queue.Queue()
    service.subscribe(decisions.put)
    with service:
        assert service.wait_connected(5)
        reader.tap("DEADBEEF")
        decisions.get(timeout=5)
    assert factory.pin(RED).state and not factory.pin(GREEN).state and not factory.pin(RELAY).state
    scheduler.advance(2.5)
    assert not factory.pin(RED).state
