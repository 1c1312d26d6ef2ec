"""One-time codes: 6 random digits, stored as an HMAC (keyed by SECRET_KEY), compared in
constant time. A plain hash of a 6-digit code would fall to a million guesses; the key does not."""

from __future__ import annotations

import hmac
import secrets

from django.utils.crypto import salted_hmac


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def hash_code(code: str, *, purpose: str, user_id: object) -> str:
    return salted_hmac(f"verification-code:{purpose}", f"{user_id}:{code}",
                       algorithm="sha256").hexdigest()


def code_matches(code: str, *, code_hash: str, purpose: str, user_id: object) -> bool:
    return hmac.compare_digest(hash_code(code, purpose=purpose, user_id=user_id), code_hash)
