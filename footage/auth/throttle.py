"""Login throttling: failed password logins counted per (user name, client address) and per
client address, in the memory of one process.

Rules (``Limits`` holds the numbers):

- ``per_user`` failures of one user name from one address within ``window`` seconds lock that
  pair for ``lockout`` seconds. Once a pair has been locked, a single further failure locks it
  again for twice as long as the last time, up to ``max_lockout``. A success clears the pair; a
  quiet ``window`` after its last lock ended forgets it.
- ``per_address`` failures from one address, whatever the user names, lock the address for
  every name in the same way (password spraying).
- Locks only ever apply to the address the failures came from: an attacker cannot lock a
  user out from elsewhere. IPv6 clients are counted by their /64 network (one host usually
  has a whole /64 to pick addresses from).
- Attempts in progress count as failures until they end, so parallel guesses cannot overrun
  a budget.

A refused attempt raises ``TooManyLogins`` before any password is checked: it costs no
Argon2 work. ``clock`` (monotonic seconds) is injectable so tests need not sleep.
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from footage.domain import LoginScope, TooManyLogins, Unauthenticated

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Limits:
    per_user: int = 5  # failures of one user name from one address ...
    per_address: int = 30  # ... and from one address across user names ...
    window: float = 900.0  # ... within this many seconds
    lockout: float = 60.0  # the first lock, doubled by each further failure ...
    max_lockout: float = 900.0  # ... up to this
    max_entries: int = 100_000  # records kept per kind (the oldest quiet ones go first)


@dataclass(slots=True)
class _Record:
    failures: deque[float] = field(default_factory=deque)
    strikes: int = 0  # locks so far; after one, a single failure locks again
    locked_until: float = -math.inf
    pending: int = 0  # attempts in progress

    def quiet_since(self, window: float) -> float:
        last = self.failures[-1] if self.failures else -math.inf
        return max(last, self.locked_until) + window

    def forgettable(self, now: float, window: float) -> bool:
        return self.pending == 0 and now >= self.quiet_since(window)


class _Ledger:
    """Records by key, least recently touched first."""

    def __init__(self, limit: int, limits: Limits) -> None:
        self.limit = limit
        self._limits = limits
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def get(self, key: str, now: float) -> _Record:
        record = self._records.get(key)
        if record is None or record.forgettable(now, self._limits.window):
            record = self._records[key] = _Record()
        self._records.move_to_end(key)
        return record

    def peek(self, key: str) -> _Record | None:
        return self._records.get(key)

    def drop(self, key: str) -> None:
        self._records.pop(key, None)

    def wait(self, record: _Record, now: float) -> float:
        """Seconds until ``record`` lets one more attempt in (0: now)."""
        if now < record.locked_until:
            return record.locked_until - now
        window_start = now - self._limits.window
        while record.failures and record.failures[0] <= window_start:
            record.failures.popleft()
        allowance = 1 if record.strikes else self.limit - len(record.failures)
        return 0.0 if record.pending < allowance else 1.0  # busy: the others end soon

    def fail(self, record: _Record, now: float) -> None:
        record.failures.append(now)
        if record.strikes or len(record.failures) >= self.limit:
            limits = self._limits
            record.locked_until = now + min(limits.lockout * 2**record.strikes, limits.max_lockout)
            record.strikes += 1
            record.failures.clear()

    def prune(self, now: float) -> None:
        while self._records:
            key, record = next(iter(self._records.items()))
            crowded = len(self._records) > self._limits.max_entries
            if not crowded and not record.forgettable(now, self._limits.window):
                return
            del self._records[key]

    def __len__(self) -> int:
        return len(self._records)


class LoginThrottle:
    """Counts failed logins and refuses attempts that are over their budget (thread-safe)."""

    def __init__(
        self, limits: Limits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or Limits()
        self.clock = clock
        self._lock = threading.Lock()
        self._users = _Ledger(self.limits.per_user, self.limits)
        self._addresses = _Ledger(self.limits.per_address, self.limits)

    @contextmanager
    def attempt(self, name: str, address: str) -> Iterator[None]:
        """Guard one password check of ``name`` from ``address``: raise ``TooManyLogins``
        at once if it is over budget; else run the block, an ``Unauthenticated`` from which
        counts as a failure and a normal end as a success."""
        user_key, address_key = self._admit(name, address)
        try:
            yield
        except Unauthenticated:
            self._settle(user_key, address_key, failed=True)
            raise
        except BaseException:
            self._settle(user_key, address_key, failed=None)
            raise
        self._settle(user_key, address_key, failed=False)

    def _waits(self, name: str, address: str, now: float) -> Iterable[tuple[float, LoginScope]]:
        user = self._users.peek(user_key(name, address))
        where = self._addresses.peek(address_key(address))
        yield (0.0, "user")
        if where is not None and not where.forgettable(now, self.limits.window):
            yield (self._addresses.wait(where, now), "address")
        if user is not None and not user.forgettable(now, self.limits.window):
            yield (self._users.wait(user, now), "user")

    def _admit(self, name: str, address: str) -> tuple[str, str]:
        with self._lock:
            now = self.clock()
            wait, scope = max(self._waits(name, address, now), key=lambda pair: pair[0])
            if wait > 0:
                raise _refusal(_seconds(wait), scope)
            keys = user_key(name, address), address_key(address)
            self._users.get(keys[0], now).pending += 1
            self._addresses.get(keys[1], now).pending += 1
            return keys

    def _settle(self, user: str, address: str, *, failed: bool | None) -> None:
        with self._lock:
            now = self.clock()
            for ledger, key in ((self._users, user), (self._addresses, address)):
                record = ledger.get(key, now)
                record.pending = max(0, record.pending - 1)
                if failed:
                    ledger.fail(record, now)
            if failed is False:
                self._users.drop(user)  # the address keeps its count: no reset by logging in
            self._users.prune(now)
            self._addresses.prune(now)

    def __len__(self) -> int:
        """Records held (user name + address pairs and addresses)."""
        with self._lock:
            return len(self._users) + len(self._addresses)


def _seconds(wait: float) -> int:
    return math.ceil(wait) if wait > 0 else 0


def _refusal(seconds: int, scope: LoginScope) -> TooManyLogins:
    whom = "for this user " if scope == "user" else ""
    return TooManyLogins(
        f"too many failed logins {whom}from your address; try again in {seconds} s",
        retry_after=seconds,
        scope=scope,
    )


def address_key(address: str) -> str:
    """The unit an address is counted in: the IPv4 address, or the IPv6 /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:200]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def user_key(name: str, address: str) -> str:
    return f"{address_key(address)} {name.strip().casefold()[:200]}"


def parse_networks(texts: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or CIDR networks (``10.0.0.0/8``); ``ValueError`` names a bad one."""
    return tuple(ipaddress.ip_network(text.strip(), strict=False) for text in texts)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str:
    """The client's address: ``peer`` (the other end of the connection), unless it is one of
    the ``trusted`` proxies; then the rightmost ``X-Forwarded-For`` hop that is not itself a
    trusted proxy (hops further left could be made up by the client)."""
    if not peer:
        return "unknown"
    if not _trusted(peer, trusted):
        return peer
    address = peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        try:
            ip = ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage from here on: the last good hop is all we know
        address = str(ip)
        if not _trusted(address, trusted):
            break
    return address


def _trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
