"""The login throttle's rules, on a clock moved by hand."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from footage.api.errors import TABLE, mapping_for
from footage.auth.throttle import (
    Limits,
    LoginThrottle,
    address_key,
    client_address,
    parse_networks,
)
from footage.config.settings import ServerSettings
from footage.domain import NoSpace, TooManyLogins, Unauthenticated

HOME = "192.0.2.10"
ELSEWHERE = "198.51.100.7"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(clock: Clock) -> LoginThrottle:
    return LoginThrottle(clock=clock)


def fail(throttle: LoginThrottle, name: str = "ann", address: str = HOME, times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated), throttle.attempt(name, address):
            raise Unauthenticated("wrong user name or password")


def succeed(throttle: LoginThrottle, name: str = "ann", address: str = HOME) -> None:
    with throttle.attempt(name, address):
        pass


def refused(throttle: LoginThrottle, name: str = "ann", address: str = HOME) -> TooManyLogins:
    ran = []
    with pytest.raises(TooManyLogins) as caught, throttle.attempt(name, address):
        ran.append(True)  # the password check: never reached
    assert not ran
    return caught.value


def test_five_failures_lock_the_name_at_that_address(throttle: LoginThrottle) -> None:
    fail(throttle, times=4)
    succeed(throttle, "bob")  # another name, same address: not counted against ann
    fail(throttle)
    error = refused(throttle)
    assert error.retry_after == 60 and error.scope == "user" and error.code == "too_many_logins"
    assert error.message == (
        "too many failed logins for this user from your address; try again in 60 s"
    )
    assert mapping_for(error).http_status == 429
    assert mapping_for(error).grpc_code == "RESOURCE_EXHAUSTED"


def test_the_lock_runs_out_and_then_grows_with_each_failure(
    throttle: LoginThrottle, clock: Clock
) -> None:
    fail(throttle, times=5)
    clock.advance(30)
    assert refused(throttle).retry_after == 30
    waits = []
    for _ in range(6):
        clock.advance(refused(throttle).retry_after)
        fail(throttle)  # one failure after a lock locks again, for twice as long
        waits.append(refused(throttle).retry_after)
    assert waits == [120, 240, 480, 900, 900, 900]  # capped at max_lockout


def test_a_success_clears_the_count(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, times=4)
    succeed(throttle)
    fail(throttle, times=4)
    succeed(throttle)  # still allowed: the count started again
    fail(throttle, times=5)
    clock.advance(60)
    succeed(throttle)  # after the lock, the right password works and clears the strikes
    fail(throttle, times=4)
    succeed(throttle)


def test_failures_leave_the_window(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, times=4)
    clock.advance(900)
    fail(throttle, times=4)
    succeed(throttle)


def test_a_quiet_window_after_the_lock_forgets_it(throttle: LoginThrottle, clock: Clock) -> None:
    fail(throttle, times=5)
    clock.advance(60 + 900)
    fail(throttle, times=4)  # a fresh budget, not one failure to the next lock
    succeed(throttle)
    assert len(throttle) == 1  # only the address's count of failures is kept


def test_locks_stay_at_their_address(throttle: LoginThrottle) -> None:
    fail(throttle, times=5)
    refused(throttle)
    succeed(throttle, "ann", ELSEWHERE)
    succeed(throttle, "bob", HOME)


def test_spraying_many_names_locks_the_address(throttle: LoginThrottle, clock: Clock) -> None:
    for n in range(30):
        fail(throttle, f"user{n}")
    error = refused(throttle, "zoe")
    assert error.scope == "address" and error.retry_after == 60
    assert error.message == "too many failed logins from your address; try again in 60 s"
    succeed(throttle, "zoe", ELSEWHERE)
    clock.advance(60)
    succeed(throttle, "zoe")  # a success does not reset the address's count ...
    fail(throttle, "yan")  # ... so one more failure locks it again, longer
    assert refused(throttle, "ann").retry_after == 120


def test_the_longer_lock_is_the_one_reported(clock: Clock) -> None:
    throttle = LoginThrottle(Limits(per_user=2, per_address=3), clock=clock)
    fail(throttle, "ann", times=2)  # ann locked 60 s
    clock.advance(60)
    fail(throttle, "ann")  # ann locked 120 s, and the address (3 failures) 60 s
    error = refused(throttle, "ann")
    assert (error.scope, error.retry_after) == ("user", 120)
    assert refused(throttle, "bob").scope == "address"


def test_attempts_in_progress_count(throttle: LoginThrottle) -> None:
    with ExitStack() as stack:
        for _ in range(5):
            stack.enter_context(throttle.attempt("ann", HOME))
        assert refused(throttle).retry_after == 1  # parallel guesses cannot overrun it
    succeed(throttle)  # they all ended well


def test_other_errors_do_not_count(throttle: LoginThrottle) -> None:
    for _ in range(10):
        with pytest.raises(OSError), throttle.attempt("ann", HOME):
            raise OSError("database gone")
    fail(throttle, times=4)
    succeed(throttle)


def test_names_and_addresses_are_counted_sensibly(throttle: LoginThrottle) -> None:
    assert address_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert address_key("::ffff:192.0.2.10") == HOME
    fail(throttle, "Ann", "2001:db8:1:2::1", times=3)
    fail(throttle, " ann", "2001:db8:1:2:ffff::9", times=2)
    refused(throttle, "ANN", "2001:db8:1:2::77")
    succeed(throttle, "ann", "2001:db8:1:3::1")


def test_quiet_records_are_dropped(clock: Clock) -> None:
    throttle = LoginThrottle(Limits(max_entries=10), clock=clock)
    for n in range(50):
        fail(throttle, f"user{n}", f"10.0.0.{n}")
    assert len(throttle) == 20  # at most max_entries of each kind
    clock.advance(900)
    fail(throttle, "ann", HOME)
    assert len(throttle) == 2


def test_the_client_address() -> None:
    proxies = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    assert client_address("203.0.113.5", ["1.2.3.4"], ()) == "203.0.113.5"
    assert client_address("203.0.113.5", ["1.2.3.4"], proxies) == "203.0.113.5"  # not a proxy
    assert client_address("127.0.0.1", [], proxies) == "127.0.0.1"
    # the client may write anything on the left; the hops the proxies added are believed
    assert client_address("127.0.0.1", ["6.6.6.6, 203.0.113.5, 10.1.1.1"], proxies) == (
        "203.0.113.5"
    )
    assert client_address("127.0.0.1", ["6.6.6.6", "203.0.113.5"], proxies) == "203.0.113.5"
    assert client_address("127.0.0.1", ["bogus, 10.2.2.2"], proxies) == "10.2.2.2"
    assert client_address(None, [], proxies) == "unknown"


def test_the_setting_takes_addresses_and_networks() -> None:
    assert ServerSettings().trusted_proxies == []
    assert ServerSettings(trusted_proxies=["::1", "10.0.0.0/8"]).trusted_proxies
    with pytest.raises(ValueError, match="not an IP address"):
        ServerSettings(trusted_proxies=["proxy.example"])


def test_no_space_still_reads_back_from_resource_exhausted() -> None:
    """A client maps a gRPC code back to the first error of the table that has it."""
    first = next(cls for cls, m in TABLE if m.grpc_code == "RESOURCE_EXHAUSTED")
    assert first is NoSpace
