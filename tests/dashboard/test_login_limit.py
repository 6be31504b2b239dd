"""The failed-login token bucket: budget, refill, refusal of every attempt, bounded memory."""

from __future__ import annotations

from imagewatch.dashboard.ratelimit import FailureLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ten_failures_a_minute_then_wait_for_a_token():
    clock = Clock()
    limit = FailureLimiter(10, clock=clock)
    for _ in range(10):
        assert limit.retry_after("10.0.0.1") == 0
        limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") == 6  # one token back every 6 s
    assert limit.retry_after("10.0.0.2") == 0  # per client address
    clock.now += 5.5
    assert limit.retry_after("10.0.0.1") == 1
    clock.now += 0.5
    assert limit.retry_after("10.0.0.1") == 0
    limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") == 6
    clock.now += 600
    for _ in range(10):  # a full bucket again, never more than the burst
        assert limit.retry_after("10.0.0.1") == 0
        limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") > 0


def test_zero_turns_the_limit_off():
    limit = FailureLimiter(0, clock=Clock())
    for _ in range(100):
        limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") == 0 and len(limit) == 0


def test_memory_is_bounded_and_drained_clients_are_kept_longest():
    clock = Clock()
    limit = FailureLimiter(10, max_clients=100, clock=clock)
    for _ in range(10):
        limit.failed("attacker")
    for i in range(1000):
        limit.failed(f"10.1.{i // 250}.{i % 250}")
    assert len(limit) <= 100
    assert limit.retry_after("attacker") > 0  # the drained bucket outlived the flood of one-failure ones
