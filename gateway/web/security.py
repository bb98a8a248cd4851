"""Web security for a LAN page (reference/reliability-security.md §4).

- Sessions are server-side rows keyed by the SHA-256 of a 256-bit random token; the cookie is HttpOnly and
  SameSite=Strict, a new token is issued at every login, idle and absolute timeouts come from the config.
- Every POST carries the session's CSRF token (hidden field or `X-CSRF-Token`), compared in constant time,
  and an Origin (or Referer) that, when present, must be this very host. The login form, which has no
  session yet, uses a double-submit cookie.
- The `Host` header must be allow-listed (DNS rebinding): configured names, localhost, this machine's name,
  or an IP literal (a rebinding attack always arrives under the attacker's host name).
- Failed logins are throttled per account name (existing or not) with exponential back-off; after
  `HARD_LOCK_AFTER` consecutive failures only an admin can unlock the name (NIST SP 800-63B §5.2.2).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import socket
import urllib.parse
from dataclasses import dataclass

from gateway.config import WebConfig
from gateway.states import Role

SESSION_COOKIE = "smsgw_session"
LOGIN_CSRF_COOKIE = "smsgw_login"
FREE_FAILURES = 5             # failures before the first lock
BASE_LOCK_S = 30.0            # then 30 s, doubling per failure …
MAX_LOCK_S = 3600.0           # … up to an hour
HARD_LOCK_AFTER = 100         # consecutive failures before an admin must unlock the name
HARD_LOCK_UNTIL = 1e18        # "forever" as a lock time
MAX_PASSWORD_BYTES = 1024     # longer passwords are refused before hashing (DoS)

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class User:
    """The signed-in user of a request."""

    id: int
    username: str
    role: Role
    lang: str
    contact_id: int | None
    csrf: str

    @property
    def is_admin(self) -> bool:
        """True for the admin role."""
        return self.role == Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """Admins and operators: the whole office's data."""
        return self.role in (Role.ADMIN, Role.OPERATOR)

    @property
    def is_agent(self) -> bool:
        """An agent: only their own customers."""
        return self.role == Role.AGENT


def new_token() -> str:
    """A fresh 256-bit random token (URL-safe text)."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two tokens; False when either is missing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def lock_after(failures: int, now: float) -> float | None:
    """When an account name unlocks after this many consecutive failures (None: not locked)."""
    if failures >= HARD_LOCK_AFTER:
        return HARD_LOCK_UNTIL
    if failures < FREE_FAILURES:
        return None
    return now + min(MAX_LOCK_S, BASE_LOCK_S * 2 ** (failures - FREE_FAILURES))


def split_host(host_header: str) -> str:
    """The host name of a Host header without the port, lower-cased ('[::1]:80' → '::1')."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


class HostPolicy:
    """Which Host headers this server answers (DNS-rebinding defence)."""

    def __init__(self, web: WebConfig) -> None:
        names = {"localhost", *web.allowed_hosts}
        try:
            own = socket.gethostname().lower()
        except OSError:
            own = ""
        if own:
            names.update({own, own + ".local", own + ".lan"})
        self.names = frozenset(split_host(n) for n in names)

    def allows(self, host_header: str | None) -> bool:
        """True when the Host header names this server."""
        if not host_header:
            return False
        host = split_host(host_header)
        if host in self.names:
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


def origin_ok(origin: str | None, referer: str | None, host_header: str | None) -> bool:
    """A state-changing request came from our own pages: Origin (or else Referer) names our host, or is absent."""
    source = origin if origin and origin != "null" else referer
    if origin == "null":
        return False
    if not source:
        return True  # non-browser clients; the CSRF token still has to match
    parts = urllib.parse.urlsplit(source)
    return bool(host_header) and parts.netloc.lower() == (host_header or "").strip().lower()
