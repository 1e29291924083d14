"""Fault injection for the device emulators: what goes wrong, on which request.

A spec is a comma-separated list:

- ``kind:p`` — each request suffers ``kind`` with probability ``p`` (decided by ``seed`` and
  the request's index, so a run is reproducible);
- ``kind@i`` / ``kind@i-j`` — exactly the ``i``-th (to ``j``-th) request suffers ``kind``
  (0-based; scripted, for tests);
- either form may end in ``/scope`` to count only requests of that kind: ``search``,
  ``download``, ``picture``, ``time``, ``info`` (``stall:1/download``, ``busy@0/search``);
- ``clock:+120`` — the device clock runs 120 s fast (``-30`` slow).

Kinds: ``slow`` (body trickles out), ``stall`` (body stops half way and the connection
hangs), ``reset`` (connection dropped part way), ``truncate`` (fewer bytes than the
Content-Length announced), ``401`` (credentials refused), ``busy`` (Hikvision: HTTP 503
"Device Busy"; Dahua: 401 "too many connections"), ``xmlerror`` (HTTP 200 whose body is an
error document instead of media), ``400`` (Hikvision's transient bad request).
Only requests that passed authentication are counted.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from footage.domain import InvalidRequest

KINDS = ("slow", "stall", "reset", "truncate", "401", "busy", "xmlerror", "400")
SCOPES = ("any", "search", "download", "picture", "time", "info")
#: Faults that answer instead of the handler (at most one applies, in this order).
ANSWER_KINDS = ("401", "busy", "400", "xmlerror")
#: Faults that damage the body the handler produced.
BODY_KINDS = ("reset", "truncate", "stall", "slow")


@dataclass(frozen=True, slots=True)
class _Rule:
    kind: str
    scope: str
    probability: float = 0.0
    first: int = -1
    last: int = -1

    def hits(self, index: int, rng: random.Random) -> bool:
        if self.first >= 0:
            return self.first <= index <= self.last
        return rng.random() < self.probability


@dataclass
class FaultPlan:
    rules: list[_Rule] = field(default_factory=list)
    clock_skew: float = 0.0  # seconds the device clock is ahead of true time
    seed: int = 0
    slow_delay: float = 0.05  # seconds between 1 KiB chunks of a slow body
    stall_seconds: float = 30.0  # how long a stalled body hangs before the connection closes
    _counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    applied: list[tuple[int, str, str]] = field(default_factory=list)  # (index, scope, kind)

    @classmethod
    def parse(cls, spec: str | None, *, seed: int = 0) -> FaultPlan:
        plan = cls(seed=seed)
        for raw in (spec or "").split(","):
            item = raw.strip()
            if item:
                plan._add(item)
        return plan

    def _add(self, item: str) -> None:
        body, _, scope = item.partition("/")
        scope = scope.strip().lower() or "any"
        if scope not in SCOPES:
            raise InvalidRequest(f"fault {item!r}: unknown scope {scope!r}; use {SCOPES}")
        if body.startswith("clock:"):
            self.clock_skew = _number(body[6:], item)
            return
        if "@" in body:
            kind, _, where = body.partition("@")
            first, _, last = where.partition("-")
            rule = _Rule(_kind(kind, item), scope, first=_index(first, item))
            rule = _Rule(rule.kind, scope, first=rule.first, last=_index(last or first, item))
        else:
            kind, _, chance = body.partition(":")
            probability = _number(chance or "1", item)
            if not 0 <= probability <= 1:
                raise InvalidRequest(f"fault {item!r}: a probability is between 0 and 1")
            rule = _Rule(_kind(kind, item), scope, probability=probability)
        self.rules.append(rule)

    def decide(self, scope: str) -> frozenset[str]:
        """The faults of the next request of ``scope`` (counts it)."""
        with self._lock:
            index_any = self._counts.get("any", 0)
            index_scope = self._counts.get(scope, 0)
            self._counts["any"] = index_any + 1
            if scope != "any":
                self._counts[scope] = index_scope + 1
        chosen: set[str] = set()
        for number, rule in enumerate(self.rules):
            if rule.scope not in ("any", scope):
                continue
            index = index_any if rule.scope == "any" else index_scope
            rng = random.Random(f"{self.seed}:{number}:{rule.scope}:{index}")
            if rule.hits(index, rng):
                chosen.add(rule.kind)
        if chosen:
            with self._lock:
                self.applied.extend((index_any, scope, kind) for kind in sorted(chosen))
        return frozenset(chosen)

    @property
    def empty(self) -> bool:
        return not self.rules and self.clock_skew == 0


def _kind(kind: str, item: str) -> str:
    value = kind.strip().lower()
    if value not in KINDS:
        raise InvalidRequest(f"fault {item!r}: unknown kind {kind!r}; use one of {KINDS}")
    return value


def _number(text: str, item: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise InvalidRequest(f"fault {item!r}: {text!r} is not a number") from None


def _index(text: str, item: str) -> int:
    if not text.strip().isdigit():
        raise InvalidRequest(f"fault {item!r}: {text!r} is not a request index")
    return int(text)
