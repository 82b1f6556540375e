"""The search policy (``data/search_policy.toml``): floors, caps and approval terms; the
service policy (``data/service_policy.toml``): passwords, lockout, sessions, API tokens,
second factor.

Every value carries its source or justification in the file. :func:`search_policy` and
:func:`service_policy` return the packaged policies (read once).
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["SearchPolicy", "ServicePolicy", "search_policy", "service_policy"]


@dataclass(frozen=True)
class SearchPolicy:
    """Limits of searches and familial approvals (see ``data/search_policy.toml``)."""

    loci_floor: int = 9
    kit_floor: dict[str, int] = field(default_factory=dict)
    max_exact_hits: int = 100
    max_top: int = 100
    approval_valid_days: int = 30
    approval_max_uses: int = 3
    pairs_max_uses: int = 1
    floor_source: str = ""

    def trace_floor(self, kit: str | None) -> int:
        """Fewest locus copies a trace of ``kit`` must have typed (never below the floor)."""
        key = (kit or "").strip().lower().replace(" ", "_")
        return max(self.loci_floor, self.kit_floor.get(key, self.loci_floor))


@functools.cache
def search_policy() -> SearchPolicy:
    """The packaged search policy."""
    text = (resources.files("patriline.reference") / "data" / "search_policy.toml").read_text(
        encoding="utf-8"
    )
    doc = tomllib.loads(text)
    loci, appr = doc["loci"], doc["approval"]
    return SearchPolicy(
        loci_floor=int(loci["floor"]),
        kit_floor={k: int(v) for k, v in loci.get("kit_floor", {}).items()},
        max_exact_hits=int(doc["exact"]["max_hits"]),
        max_top=int(doc["results"]["max_top"]),
        approval_valid_days=int(appr["valid_days"]),
        approval_max_uses=int(appr["max_uses"]),
        pairs_max_uses=int(appr["pairs_max_uses"]),
        floor_source=str(loci.get("floor_source", "")),
    )


@dataclass(frozen=True)
class ServicePolicy:
    """Authentication limits of the lab service (see ``data/service_policy.toml``)."""

    # passwords (Argon2id, RFC 9106 low-memory profile)
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 4
    argon2_hash_len: int = 32
    argon2_salt_len: int = 16
    password_min_length: int = 12
    password_max_length: int = 128
    generated_password_bytes: int = 18
    # lockout
    max_failures: int = 5
    failure_window_minutes: int = 15
    lockout_minutes: int = 15
    # browser sessions
    session_idle_minutes: int = 30
    session_absolute_hours: int = 12
    session_touch_seconds: int = 60
    session_token_bytes: int = 32
    # API tokens
    token_default_days: int = 90
    token_max_days: int = 365
    token_secret_bytes: int = 32
    token_touch_seconds: int = 60
    # TOTP (RFC 6238)
    totp_step_seconds: int = 30
    totp_digits: int = 6
    totp_valid_window: int = 1
    totp_secret_bytes: int = 20
    totp_issuer: str = "patriline"
    totp_required_roles: tuple[str, ...] = ("supervisor", "admin")
    #: Each section's source, as the file gives it.
    sources: dict[str, str] = field(default_factory=dict)


@functools.cache
def service_policy() -> ServicePolicy:
    """The packaged service policy."""
    text = (resources.files("patriline.reference") / "data" / "service_policy.toml").read_text(
        encoding="utf-8"
    )
    doc = tomllib.loads(text)
    pw, lock, ses, tok, totp = (
        doc["password"], doc["lockout"], doc["session"], doc["token"], doc["totp"]
    )  # fmt: skip
    if pw["algorithm"] != "argon2id":
        raise ValueError("service_policy.toml: password.algorithm must be argon2id")
    return ServicePolicy(
        argon2_time_cost=int(pw["time_cost"]),
        argon2_memory_cost_kib=int(pw["memory_cost_kib"]),
        argon2_parallelism=int(pw["parallelism"]),
        argon2_hash_len=int(pw["hash_len"]),
        argon2_salt_len=int(pw["salt_len"]),
        password_min_length=int(pw["min_length"]),
        password_max_length=int(pw["max_length"]),
        generated_password_bytes=int(pw["generated_bytes"]),
        max_failures=int(lock["max_failures"]),
        failure_window_minutes=int(lock["failure_window_minutes"]),
        lockout_minutes=int(lock["lockout_minutes"]),
        session_idle_minutes=int(ses["idle_minutes"]),
        session_absolute_hours=int(ses["absolute_hours"]),
        session_touch_seconds=int(ses["touch_seconds"]),
        session_token_bytes=int(ses["token_bytes"]),
        token_default_days=int(tok["default_days"]),
        token_max_days=int(tok["max_days"]),
        token_secret_bytes=int(tok["secret_bytes"]),
        token_touch_seconds=int(tok["touch_seconds"]),
        totp_step_seconds=int(totp["step_seconds"]),
        totp_digits=int(totp["digits"]),
        totp_valid_window=int(totp["valid_window"]),
        totp_secret_bytes=int(totp["secret_bytes"]),
        totp_issuer=str(totp["issuer"]),
        totp_required_roles=tuple(str(r) for r in totp["required_roles"]),
        sources={
            "argon2": str(pw["argon2_source"]),
            "password_length": str(pw["length_source"]),
            "generated_password": str(pw["generated_source"]),
            "lockout": str(lock["source"]),
            "session": str(ses["source"]),
            "token": str(tok["source"]),
            "totp": str(totp["source"]),
        },
    )
