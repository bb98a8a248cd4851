"""Password hashing with scrypt (stdlib `hashlib.scrypt`, `maxmem` set so a Pi with 512 MB never swaps).

Format: `scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>` so parameters can be raised later without breaking old hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

# 32 MiB and ~0.08 s per hash on a PC, ~0.4 s on a Pi 4: the project's floor is N ≥ 2^15 with 0.25–1 s on the Pi
# (reliability-security.md S1). OWASP's N=2^17 (128 MiB per login) is too much for a 512 MB Pi.
N, R, P = 2**15, 8, 1
MAXMEM = 64 * 1024 * 1024
MIN_PASSWORD_LENGTH = 10


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A salted scrypt hash of password in our self-describing format."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=N, r=R, p=P, maxmem=MAXMEM, dklen=32)
    return f"scrypt${N}${R}${P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when password matches the stored hash; never raises on a malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                                p=int(p), maxmem=MAXMEM, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def password_problem(password: str, username: str = "") -> str | None:
    """Why a new password is unacceptable, or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if username and password.casefold() == username.casefold():
        return "the password must not be the user name"
    return None
