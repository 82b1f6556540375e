"""Authentication of the lab service (issue 12 item 2, docs/service.md §Authentication):
Argon2id passwords, lockout, browser sessions and their timeouts, TOTP, API tokens and
their scopes. SQLite and PostgreSQL; time is moved with ``now=``, never slept.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from patriline.casework import Session, auth
from patriline.casework.access import ACTIONS, SCOPE_ACTIONS, SCOPES, Action, scope_needed
from patriline.errors import (
    AccessDenied,
    AccountLocked,
    AuthenticationFailed,
    ConflictError,
    InputError,
    NotFound,
    SecondFactorRequired,
)
from patriline.reference.policy import service_policy
from patriline.store.credentials import update_password_hash
from patriline.store.schema import api_tokens, credentials, web_sessions

T0 = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
PW = "correct horse battery"


@pytest.fixture
def users_fixture(store_fixture: Any) -> Any:
    """ann (analyst), sue (supervisor), aud (auditor), each with a password (not one-time)."""
    db = store_fixture
    admin = Session(db, "admin")
    for name, role in (("ann", "analyst"), ("sue", "supervisor"), ("aud", "auditor")):
        admin.add_user(name, role)
        auth.set_password(admin, name, PW, one_time=False, now=T0)
    return db


def _actions(db: Any, *names: str) -> list[Any]:
    return [e for e in db.read_audit() if e.action in names]


def _full(db: Any, user: str, at: datetime = T0) -> Session:
    """A casework session of ``user`` through a browser login."""
    login = auth.login(db, user, PW, now=at)
    principal = auth.principal_for(db, auth.resume(db, login.token, now=at))
    return auth.session_for(db, principal)


# ---------------------------------------------------------------------- policy and errors
def test_policy__values_and_their_sources() -> None:
    pol = service_policy()
    assert (pol.session_idle_minutes, pol.session_absolute_hours) == (30, 12)
    assert (pol.max_failures, pol.failure_window_minutes, pol.lockout_minutes) == (5, 15, 15)
    assert (pol.token_default_days, pol.token_max_days) == (90, 365)
    assert "NIST SP 800-63B" in pol.sources["session"] and "ASVS" in pol.sources["session"]
    assert "NIST SP 800-63B" in pol.sources["lockout"]
    assert all(pol.sources[k] for k in ("argon2", "token", "totp", "password_length"))


@pytest.mark.parametrize(
    ("cls", "status", "code"),
    [
        (AuthenticationFailed, 401, "authentication_failed"),
        (AccountLocked, 429, "account_locked"),
        (SecondFactorRequired, 401, "totp_required"),
    ],
)
def test_errors__statuses_and_shape(
    cls: type[AuthenticationFailed], status: int, code: str
) -> None:
    err = cls("no", retry_after=3)
    assert (err.http_status, err.code, err.exit_code) == (status, code, 3)
    assert err.to_dict() == {
        "error": {"code": code, "message": "no", "details": {"retry_after": 3}}
    }


def test_scopes__every_action_has_one_read_is_inside_the_others() -> None:
    assert {scope_needed(a) for a in ACTIONS} == set(SCOPES)
    assert all(scope_needed(a) for a in ACTIONS)
    assert SCOPE_ACTIONS["read"] < SCOPE_ACTIONS["search"]
    assert SCOPE_ACTIONS["read"] < SCOPE_ACTIONS["admin"]
    assert scope_needed("search_familial") == "search" and scope_needed("expunge") == "admin"


def test_scopes__a_read_session_is_refused_every_other_action(store_fixture: Any) -> None:
    db = store_fixture  # the admin may do everything; the scope alone refuses
    reader = Session(db, "admin", via="service", scopes=frozenset({"read"}))
    refused = []
    for action in ACTIONS:
        try:
            reader.authorize(action, None)
        except AccessDenied as exc:
            refused.append((action, "scope" in str(exc)))
    assert dict(refused) == {a: True for a in ACTIONS if a not in {"stats", "audit_read"}}
    denied = _actions(db, "access_denied")
    assert len(denied) == len(refused) and {e.params["via"] for e in denied} == {"service"}
    with pytest.raises(ValueError, match="scopes must be among"):
        Session(db, "admin", scopes=frozenset({"write"}))


# ---------------------------------------------------------------------- passwords and login
def test_login__ok_wrong_password_unknown_user(users_fixture: Any) -> None:
    db = users_fixture
    login = auth.login(db, "ann", PW, client="10.0.0.1", now=T0)
    assert (login.user, login.role, login.must_change_password) == ("ann", "analyst", False)
    assert not login.totp_enrolment_required and len(login.token) >= 43
    with pytest.raises(AuthenticationFailed) as wrong:
        auth.login(db, "ann", "not the password", now=T0)
    with pytest.raises(AuthenticationFailed) as unknown:
        auth.login(db, "nobody", PW, now=T0)
    assert type(wrong.value) is type(unknown.value) is AuthenticationFailed
    assert wrong.value.to_dict() == unknown.value.to_dict()  # never says which
    (ok,) = _actions(db, "login")
    assert (ok.user, ok.role, ok.params["client"], ok.params["via"]) == (
        "ann", "analyst", "10.0.0.1", "service",
    )  # fmt: skip
    failed = _actions(db, "login_failed")
    assert [(e.user, e.result["reason"]) for e in failed] == [
        ("ann", "password"),
        ("nobody", "unknown_user"),
    ]


def test_login__unknown_user_costs_an_argon2_verification(users_fixture: Any) -> None:
    db = users_fixture

    def cost(user: str) -> float:
        times = []
        for _ in range(3):
            start = time.perf_counter()
            with pytest.raises(AuthenticationFailed):
                auth.login(db, user, "wrong password!", now=T0 - timedelta(days=1))
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    known, unknown = cost("aud"), cost("nobody")
    assert unknown > 0.5 * known and unknown > 0.03  # Argon2id ran (~0.1 s), not skipped


def test_password__hashed_with_argon2id_never_in_the_audit_log(users_fixture: Any) -> None:
    db = users_fixture
    admin = Session(db, "admin")
    one_time = auth.set_password(admin, "ann", now=T0)  # generated
    assert len(one_time) >= 20 and one_time != PW
    with pytest.raises(AuthenticationFailed):
        auth.login(db, "ann", "typo " + one_time, now=T0)
    auth.login(db, "ann", one_time, now=T0)
    auth.change_password(db, "ann", one_time, "a new long password", now=T0)
    with pytest.raises(InputError, match="12 to 128"):
        auth.set_password(admin, "ann", "short", now=T0)
    with db.read() as conn:
        stored = conn.execute(select(credentials).where(credentials.c.user == "ann")).one()
    assert stored.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    log = json.dumps([e.to_dict() for e in db.read_audit()])
    for secret in (PW, one_time, "a new long password"):
        assert secret not in log and secret not in stored.password_hash
    assert '"set_password": "ann"' in log and "password_change" in log


def test_password__rehashed_when_the_argon2_parameters_were_raised(users_fixture: Any) -> None:
    db = users_fixture
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PW)
    with db.read() as conn:
        old = conn.execute(select(credentials.c.password_hash).where(credentials.c.user == "aud"))
        old_hash = old.scalar_one()
    assert update_password_hash(db, "aud", old_hash, weak, "2026-03-02T08:00:00.000000+00:00")
    auth.login(db, "aud", PW, now=T0)
    with db.read() as conn:
        now_hash = conn.execute(
            select(credentials.c.password_hash).where(credentials.c.user == "aud")
        ).scalar_one()
    assert now_hash != weak and now_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert auth.login(db, "aud", PW, now=T0).user == "aud"


def test_one_time_password__no_scope_until_changed(users_fixture: Any) -> None:
    db = users_fixture
    one_time = auth.set_password(Session(db, "admin"), "ann", now=T0)
    with pytest.raises(AuthenticationFailed):
        auth.login(db, "ann", PW, now=T0)  # the old password is gone
    login = auth.login(db, "ann", one_time, now=T0)
    assert login.must_change_password
    principal = auth.principal_for(db, auth.resume(db, login.token, now=T0))
    assert principal.scopes == frozenset()
    pending = auth.session_for(db, principal)
    with pytest.raises(AccessDenied, match="scope"):
        pending.authorize(Action.CASE_OPEN)
    with pytest.raises(InputError, match="differ"):
        auth.change_password(db, "ann", one_time, one_time, now=T0)
    auth.change_password(db, "ann", one_time, "my own password now", now=T0)
    with pytest.raises(AuthenticationFailed):
        auth.resume(db, login.token, now=T0)  # a password change ends the sessions
    again = auth.login(db, "ann", "my own password now", now=T0)
    assert not again.must_change_password
    scopes = auth.principal_for(db, auth.resume(db, again.token, now=T0)).scopes
    assert scopes == {"read", "search", "admin"}


def test_set_password__admins_only_refusal_audited(users_fixture: Any) -> None:
    db = users_fixture
    with pytest.raises(AccessDenied):
        auth.set_password(_full(db, "ann"), "sue", "a password long enough", now=T0)
    (denied,) = _actions(db, "access_denied")
    assert (denied.user, denied.params["action"]) == ("ann", "user_admin")
    with pytest.raises(NotFound):
        auth.set_password(Session(db, "admin"), "ghost", now=T0)
    auth.login(db, "sue", PW, now=T0)  # unchanged


# ---------------------------------------------------------------------- lockout
def test_lockout__after_five_failures_audited_then_lifted(users_fixture: Any) -> None:
    db = users_fixture
    for i in range(4):
        with pytest.raises(AuthenticationFailed) as exc:
            auth.login(db, "ann", f"wrong password {i}", now=T0 + timedelta(minutes=i))
        assert type(exc.value) is AuthenticationFailed
    with pytest.raises(AccountLocked) as locked:
        auth.login(db, "ann", "wrong password 4", now=T0 + timedelta(minutes=4))
    assert locked.value.http_status == 429 and locked.value.details["retry_after"] == 900
    with pytest.raises(AccountLocked):  # even the right password, while locked
        auth.login(db, "ann", PW, now=T0 + timedelta(minutes=10))
    failed = _actions(db, "login_failed")
    assert [e.result["failures"] for e in failed] == [1, 2, 3, 4, 5]
    (lock,) = _actions(db, "login_locked")
    assert lock.user == "ann" and lock.result["locked_until"].startswith("2026-03-02T09:19:00")
    (refused,) = _actions(db, "login_refused")
    assert refused.result["reason"] == "locked"
    assert auth.login(db, "ann", PW, now=T0 + timedelta(minutes=20)).user == "ann"
    with pytest.raises(AuthenticationFailed) as after:  # the counter starts again
        auth.login(db, "ann", "wrong again", now=T0 + timedelta(minutes=21))
    assert type(after.value) is AuthenticationFailed
    assert _actions(db, "login_failed")[-1].result["failures"] == 1


def test_lockout__failures_outside_the_window_do_not_add_up(users_fixture: Any) -> None:
    db = users_fixture
    for minutes in (0, 5, 10, 14, 16, 20, 25, 29):  # never 5 within 15 minutes
        with pytest.raises(AuthenticationFailed) as exc:
            auth.login(db, "aud", "wrong password", now=T0 + timedelta(minutes=minutes))
        assert type(exc.value) is AuthenticationFailed
    assert not _actions(db, "login_locked")
    assert auth.login(db, "aud", PW, now=T0 + timedelta(minutes=30)).user == "aud"


# ---------------------------------------------------------------------- browser sessions
def test_session__new_token_at_every_login_logout_ends_it(users_fixture: Any) -> None:
    db = users_fixture
    one, two = auth.login(db, "ann", PW, now=T0), auth.login(db, "ann", PW, now=T0)
    assert one.token != two.token and one.csrf_token != two.csrf_token
    web = auth.resume(db, one.token, now=T0)
    assert (web.user, web.role, web.csrf_token) == ("ann", "analyst", one.csrf_token)
    assert auth.csrf_ok(web, one.csrf_token)
    assert not any(auth.csrf_ok(web, t) for t in (two.csrf_token, "", None, one.token))
    with db.read() as conn:
        rows = conn.execute(select(web_sessions)).all()
    assert {r.token_sha256 for r in rows} == {
        auth.token_sha256(one.token),
        auth.token_sha256(two.token),
    }
    assert not {one.token, two.token} & {v for r in rows for v in r}  # only digests stored
    auth.logout(db, one.token, now=T0)
    with pytest.raises(AuthenticationFailed):
        auth.resume(db, one.token, now=T0)
    assert auth.resume(db, two.token, now=T0).user == "ann"
    auth.logout(db, one.token, now=T0)  # twice: nothing
    assert len(_actions(db, "logout")) == 1
    with pytest.raises(AuthenticationFailed):
        auth.resume(db, "forged-token", now=T0)


def test_session__idle_timeout(users_fixture: Any) -> None:
    db = users_fixture
    token = auth.login(db, "ann", PW, now=T0).token
    at = T0
    for _ in range(4):  # active: each request within 30 minutes of the last
        at += timedelta(minutes=29)
        assert auth.resume(db, token, now=at).last_seen_at.startswith(at.isoformat()[:16])
    with pytest.raises(AuthenticationFailed) as exc:
        auth.resume(db, token, now=at + timedelta(minutes=31))
    assert exc.value.details["reason"] == "idle"
    with pytest.raises(AuthenticationFailed):  # ended, also when asked at once again
        auth.resume(db, token, now=at)
    (expired,) = _actions(db, "session_expired")
    assert (expired.user, expired.result["reason"]) == ("ann", "idle")


def test_session__absolute_timeout(users_fixture: Any) -> None:
    db = users_fixture
    token = auth.login(db, "aud", PW, now=T0).token
    at = T0
    while at < T0 + timedelta(hours=11, minutes=50):
        at += timedelta(minutes=20)
        auth.resume(db, token, now=at)
    with pytest.raises(AuthenticationFailed) as exc:
        auth.resume(db, token, now=T0 + timedelta(hours=12, minutes=1))
    assert exc.value.details["reason"] == "absolute"


# ---------------------------------------------------------------------- second factor
def test_totp__enrol_confirm_then_required_for_a_supervisor(users_fixture: Any) -> None:
    db = users_fixture
    first = auth.login(db, "sue", PW, now=T0)  # no factor yet: may only enrol one
    assert first.totp_enrolment_required
    principal = auth.principal_for(db, auth.resume(db, first.token, now=T0))
    assert principal.scopes == frozenset()
    pending = auth.session_for(db, principal)
    with pytest.raises(AccessDenied):
        pending.authorize(Action.CASE_APPROVE)
    enrolment = auth.enrol_totp(pending, now=T0)
    assert enrolment.uri.startswith("otpauth://totp/patriline:sue?secret=")
    otp = pyotp.TOTP(enrolment.secret)
    with pytest.raises(InputError, match="does not match"):
        auth.confirm_totp(pending, "000000" if otp.at(T0) != "000000" else "111111", now=T0)
    auth.confirm_totp(pending, otp.at(T0), now=T0)
    with pytest.raises(ConflictError):
        auth.enrol_totp(pending, now=T0)  # a second factor is not swapped by a session
    assert auth.principal_for(db, auth.resume(db, first.token, now=T0)).scopes == set(SCOPES)

    t1 = T0 + timedelta(seconds=60)
    with pytest.raises(SecondFactorRequired) as missing:
        auth.login(db, "sue", PW, now=t1)
    assert missing.value.http_status == 401 and missing.value.code == "totp_required"
    with pytest.raises(AuthenticationFailed):
        auth.login(db, "sue", PW, "12345x", now=t1)
    login = auth.login(db, "sue", PW, otp.at(t1), now=t1)
    assert not login.totp_enrolment_required
    with pytest.raises(AuthenticationFailed):  # a code is accepted once
        auth.login(db, "sue", PW, otp.at(t1), now=t1 + timedelta(seconds=5))
    assert auth.login(
        db, "sue", PW, otp.at(t1 + timedelta(seconds=30)), now=t1 + timedelta(seconds=40)
    )
    reasons = [e.result["reason"] for e in _actions(db, "login_failed", "login_refused")]
    assert reasons == ["totp_missing", "totp", "totp_reused"]
    logins = _actions(db, "login")
    assert [e.result["second_factor"] for e in logins] == [False, True, True]
    assert enrolment.secret not in json.dumps([e.to_dict() for e in db.read_audit()])


def test_totp__wrong_codes_count_towards_the_lockout_admin_resets(users_fixture: Any) -> None:
    db = users_fixture
    sue = auth.session_for(
        db, auth.principal_for(db, auth.resume(db, auth.login(db, "sue", PW, now=T0).token, now=T0))
    )
    otp = pyotp.TOTP(auth.enrol_totp(sue, now=T0).secret)
    auth.confirm_totp(sue, otp.at(T0), now=T0)
    t1 = T0 + timedelta(minutes=5)
    wrong = str((int(otp.at(t1)) + 1) % 1_000_000).zfill(6)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            auth.login(db, "sue", PW, wrong, now=t1)
    with pytest.raises(AccountLocked):
        auth.login(db, "sue", PW, wrong, now=t1)
    with pytest.raises(AccessDenied):
        auth.reset_totp(_full(db, "ann"), "sue", now=t1)
    auth.reset_totp(Session(db, "admin"), "sue", now=t1)
    with pytest.raises(AccountLocked):  # a reset is no unlock
        auth.login(db, "sue", PW, now=t1)
    assert auth.login(db, "sue", PW, now=t1 + timedelta(minutes=16)).totp_enrolment_required


# ---------------------------------------------------------------------- API tokens
def test_token__shown_once_stored_hashed_default_expiry(users_fixture: Any) -> None:
    db = users_fixture
    ann = _full(db, "ann")
    new = auth.create_token(ann, label="lims export", scopes=["search", "read"], now=T0)
    assert new.secret.startswith(f"plt_{new.id}_") and new.scopes == ("read", "search")
    assert new.expires_at.startswith((T0 + timedelta(days=90)).date().isoformat())
    with db.read() as conn:
        row = conn.execute(select(api_tokens)).one()
    assert new.secret.split("_", 2)[2] not in {str(v) for v in row}
    assert row.token_sha256 == auth.token_sha256(new.secret.split("_", 2)[2])
    principal = auth.authenticate_token(db, new.secret, now=T0 + timedelta(hours=1))
    assert (principal.user, principal.role, principal.token_id) == ("ann", "analyst", new.id)
    assert principal.scopes == {"read", "search"} and principal.web_session is None
    (info,) = auth.list_tokens(ann)
    assert info.last_used_at is not None and info.last_used_at.startswith("2026-03-02T10:00")
    assert not hasattr(info, "secret")
    log = json.dumps([e.to_dict() for e in db.read_audit()])
    assert new.secret.split("_", 2)[2] not in log and "token_create" in log
    for bad in ("", "plt_", f"plt_{new.id}_wrong", "Bearer " + new.secret, "x" * 1000):
        with pytest.raises(AuthenticationFailed):
            auth.authenticate_token(db, bad, now=T0)
    assert _actions(db, "token_refused")[0].result["reason"] == "secret"


def test_token__scopes_limit_the_role_refusals_audited(users_fixture: Any) -> None:
    db = users_fixture
    ann = _full(db, "ann")
    ann.open_case("C1", purpose="burglary", legal_basis="warrant 12")
    read = auth.create_token(ann, label="stats", scopes=["read"], now=T0)
    search = auth.create_token(ann, label="lims", scopes=["search"], now=T0)
    reader = auth.session_for(db, auth.authenticate_token(db, read.secret, now=T0))
    assert reader.via == "service"
    reader.authorize(Action.STATS)
    with pytest.raises(AccessDenied, match="'search' scope"):
        reader.authorize(Action.SEARCH_EXACT, "C1")
    denied = _actions(db, "access_denied")[-1]
    assert (denied.user, denied.params["action"], denied.params["via"]) == (
        "ann", "search_exact", "service",
    )  # fmt: skip
    searcher = auth.session_for(db, auth.authenticate_token(db, search.secret, now=T0))
    assert searcher.authorize(Action.SEARCH_EXACT, "C1") is not None
    with pytest.raises(AccessDenied, match="scope"):  # a token cannot mint a wider one
        auth.create_token(reader, label="wider", scopes=["search"], now=T0)
    with pytest.raises(AccessDenied, match="no use for scope admin"):
        auth.create_token(ann, label="x", scopes=["admin"], now=T0)
    with pytest.raises(InputError, match="unknown: write"):
        auth.create_token(ann, label="x", scopes=["write"], now=T0)
    assert len(_actions(db, "access_denied")) == 3
    with pytest.raises(AccessDenied):  # a supervisor without her second factor: no scope
        auth.create_token(_full(db, "sue"), label="x", scopes=["admin"], now=T0)


def test_token__revocation_and_expiry(users_fixture: Any) -> None:
    db = users_fixture
    ann = _full(db, "ann")
    short = auth.create_token(ann, label="one day", scopes=["read"], days=1, now=T0)
    auth.authenticate_token(db, short.secret, now=T0 + timedelta(hours=23))
    with pytest.raises(AuthenticationFailed) as expired:
        auth.authenticate_token(db, short.secret, now=T0 + timedelta(days=1, seconds=1))
    assert expired.value.details["reason"] == "expired"
    for days in (0, 366, True):
        with pytest.raises(InputError, match="1 to 365"):
            auth.create_token(ann, label="x", scopes=["read"], days=days, now=T0)  # type: ignore[arg-type]
    long = auth.create_token(
        ann, label="a year", scopes=["read"], days=365, now=T0 + timedelta(minutes=1)
    )
    with pytest.raises(AccessDenied):  # another user's token: admins only
        auth.revoke_token(_full(db, "aud"), long.id, now=T0)
    auth.revoke_token(ann, long.id, now=T0)
    with pytest.raises(AuthenticationFailed) as revoked:
        auth.authenticate_token(db, long.secret, now=T0)
    assert revoked.value.details["reason"] == "revoked"
    assert [t.revoked_at is not None for t in auth.list_tokens(ann)] == [False, True]
    other = auth.create_token(ann, label="other", scopes=["read"], now=T0 + timedelta(minutes=2))
    auth.revoke_token(Session(db, "admin"), other.id, now=T0)
    assert [t.id for t in auth.list_tokens(Session(db, "admin"), user="ann")] == [
        short.id, long.id, other.id,
    ]  # fmt: skip
    with pytest.raises(AccessDenied):
        auth.list_tokens(ann, user="aud")
    with pytest.raises(NotFound):
        auth.revoke_token(ann, "nope", now=T0)
    revokes = _actions(db, "token_revoke")
    assert [(e.user, e.params["owner"]) for e in revokes] == [("ann", "ann"), ("admin", "ann")]
    assert [e.result["reason"] for e in _actions(db, "token_refused")] == ["expired", "revoked"]
