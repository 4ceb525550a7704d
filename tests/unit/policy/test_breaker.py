from serve_app.policy.breaker import CircuitBreakers


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_opens_after_threshold_and_probes_after_cooldown():
    clock = Clock()
    b = CircuitBreakers(failure_threshold=2, cooldown_s=10, clock=clock)
    b.failure("m")
    assert b.allow("m")
    b.failure("m")
    assert not b.allow("m") and b.open_models() == ["m"]
    clock.t = 10
    assert b.allow("m")  # one probe
    assert not b.allow("m")  # no second probe while the first is out
    b.success("m")
    assert b.allow("m") and not b.is_open("m")


def test_failed_probe_reopens_for_a_full_cooldown():
    clock = Clock()
    b = CircuitBreakers(failure_threshold=1, cooldown_s=5, clock=clock)
    b.failure("m")
    clock.t = 5
    assert b.allow("m")
    b.failure("m")
    clock.t = 9
    assert not b.allow("m")
    clock.t = 10
    assert b.allow("m")


def test_lost_probe_expires():
    clock = Clock()
    b = CircuitBreakers(failure_threshold=1, cooldown_s=5, clock=clock)
    b.failure("m")
    clock.t = 5
    assert b.allow("m")  # its outcome never arrives (request cancelled)
    clock.t = 10
    assert b.allow("m")


def test_success_resets_the_count():
    b = CircuitBreakers(failure_threshold=2, cooldown_s=5, clock=Clock())
    b.failure("m")
    b.success("m")
    b.failure("m")
    assert b.allow("m")


def test_blocked_peeks_without_taking_the_probe():
    now = [0.0]
    b = CircuitBreakers(1, 10, lambda: now[0])
    b.failure("m")
    assert b.blocked("m")
    now[0] = 11
    assert not b.blocked("m") and not b.blocked("m")  # a probe is due, and peeking twice leaves it due
    assert b.allow("m")  # the probe
    assert b.blocked("m")  # now in flight: others wait
