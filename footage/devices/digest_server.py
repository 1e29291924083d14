"""Server-side HTTP authentication for the emulators: RFC 7616 Digest (MD5, qop=auth), Basic.

Digest nonces are a timestamp signed with a per-server key, so any nonce the server issued
is recognised without storing it; each (nonce, nc) pair is accepted once (replays fail) and
an expired nonce gets a fresh challenge with ``stale=true``. Like the devices, an address
that fails ``lock_after`` times in a row is locked out for ``lock_seconds``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Literal
from urllib.request import parse_http_list, parse_keqv_list

AuthScheme = Literal["digest", "basic"]
NONCE_LIFETIME = 300.0


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    credentialed: bool  # an Authorization header was sent
    stale: bool = False
    locked: bool = False
    reason: str = ""


@dataclass
class _Client:
    failures: int = 0
    locked_until: float = 0.0


@dataclass
class Authenticator:
    user: str
    password: str
    realm: str
    scheme: AuthScheme = "digest"
    lock_after: int = 5
    lock_seconds: float = 300.0
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    _opaque: str = field(default_factory=lambda: secrets.token_hex(8))
    _seen: dict[str, set[int]] = field(default_factory=dict)
    _clients: dict[str, _Client] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    failures: int = 0  # failed credentialed attempts, all clients

    def challenge(self, *, stale: bool = False) -> str:
        if self.scheme == "basic":
            return f'Basic realm="{self.realm}"'
        nonce = self._new_nonce()
        extra = ", stale=true" if stale else ""
        return (
            f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", '
            f'opaque="{self._opaque}", algorithm=MD5{extra}'
        )

    def _new_nonce(self) -> str:
        stamp = f"{time.time():.6f}"
        signature = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
        return base64.urlsafe_b64encode(f"{stamp}:{signature}".encode()).decode()

    def _nonce_age(self, nonce: str) -> float | None:
        try:
            stamp, signature = base64.urlsafe_b64decode(nonce.encode()).decode().split(":", 1)
            expected = hmac.new(self._key, stamp.encode(), hashlib.sha256).hexdigest()[:32]
            if not hmac.compare_digest(signature, expected):
                return None
            return time.time() - float(stamp)
        except (ValueError, UnicodeDecodeError):
            return None

    def check(self, client: str, method: str, target: str, header: str | None) -> Verdict:
        """Verify ``header`` (the Authorization value) for ``method`` on ``target``."""
        with self._lock:
            record = self._clients.setdefault(client, _Client())
            if record.locked_until > time.monotonic():
                return Verdict(False, header is not None, locked=True, reason="locked")
        if not header:
            return Verdict(False, False, reason="no credentials")
        scheme, _, params = header.partition(" ")
        if scheme.lower() == "basic" and self.scheme == "basic":
            verdict = self._basic(params)
        elif scheme.lower() == "digest" and self.scheme == "digest":
            verdict = self._digest(method, target, params)
        else:
            verdict = Verdict(False, True, reason=f"{scheme} is not accepted")
        self._count(client, verdict)
        return verdict

    def _count(self, client: str, verdict: Verdict) -> None:
        if verdict.stale:
            return
        with self._lock:
            record = self._clients[client]
            if verdict.ok:
                record.failures = 0
                return
            record.failures += 1
            self.failures += 1
            if record.failures >= self.lock_after:
                record.locked_until = time.monotonic() + self.lock_seconds

    def locked(self, client: str) -> bool:
        with self._lock:
            record = self._clients.get(client)
            return record is not None and record.locked_until > time.monotonic()

    def _basic(self, params: str) -> Verdict:
        try:
            user, _, password = base64.b64decode(params.strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return Verdict(False, True, reason="malformed Basic credentials")
        good = hmac.compare_digest(user, self.user) and hmac.compare_digest(password, self.password)
        return Verdict(good, True, reason="" if good else "wrong user or password")

    def _digest(self, method: str, target: str, params: str) -> Verdict:
        fields = parse_keqv_list(parse_http_list(params))
        needed = ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
        if any(name not in fields for name in needed):
            return Verdict(False, True, reason="incomplete Digest credentials")
        if fields.get("algorithm", "MD5").upper() != "MD5" or fields["qop"] != "auth":
            return Verdict(False, True, reason="unsupported algorithm or qop")
        if fields["realm"] != self.realm or fields["uri"] != target:
            return Verdict(False, True, reason="realm or uri mismatch")
        age = self._nonce_age(fields["nonce"])
        if age is None:
            return Verdict(False, True, reason="unknown nonce")
        if age > NONCE_LIFETIME:
            return Verdict(False, True, stale=True, reason="stale nonce")
        try:
            count = int(fields["nc"], 16)
        except ValueError:
            return Verdict(False, True, reason="bad nonce count")
        ha1 = _md5(f"{fields['username']}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{fields['uri']}")
        expected = _md5(
            f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}"
        )
        if fields["username"] != self.user or not hmac.compare_digest(expected, fields["response"]):
            return Verdict(False, True, reason="wrong user or password")
        with self._lock:
            if len(self._seen) > 1000:  # forget nonces too old to be accepted anyway
                for old in [n for n in self._seen if (self._nonce_age(n) or 0) > NONCE_LIFETIME]:
                    del self._seen[old]
            used = self._seen.setdefault(fields["nonce"], set())
            if count in used:
                return Verdict(False, True, reason="replayed nonce count")
            used.add(count)
        return Verdict(True, True)
