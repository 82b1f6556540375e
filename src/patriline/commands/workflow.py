"""CLI commands for the lab workflow (thin: parse, call casework, format).

``case close``; ``approval request|queue|show|decide|withdraw`` (the four-eyes request
an analyst files and a supervisor decides); ``transparency`` (monthly counts, no names);
``user password`` (an admin sets a one-time password for the lab service); ``token
create|list|revoke`` (API tokens for programs and for the CLI speaking to a server).
Listings are TSV, one row per item, whole values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from patriline.commands._common import JSON_OPTION, emit_json
from patriline.commands.store import DB_OPTION, USER_OPTION, _session, case_app, remote_for

approval_app = typer.Typer(
    help="Familial-search approval requests: an analyst asks, another supervisor decides.",
    no_args_is_help=True,
)
token_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)

REQUEST_FIELDS = (
    "id", "case_id", "kind", "status", "requested_by", "requested_at", "max_mismatches",
    "max_steps", "min_loci", "reason", "decided_by", "decided_at", "decision_reason",
)  # fmt: skip


def _tsv(values: list[Any]) -> str:
    return "\t".join("" if v is None else str(v) for v in values)


def case_close(
    case: str = typer.Argument(..., help="Case ID."),
    reason: str = typer.Option(..., "--reason", help="Why the case is closed (audited)."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Close a case: no more searches, imports or approvals in it; its record, audit
    entries and report stay readable. Pending approval requests are withdrawn."""
    server = remote_for(db, user)
    if server is not None:
        d = server.call("POST", f"/cases/{case}/close", json={"reason": reason})
        typer.echo(f"closed case {d['id']} ({d['closed_at']})")
        return
    with _session(db, user) as session:
        c = session.close_case(case, reason)
    typer.echo(f"closed case {c.id} ({c.closed_at})")


def approval_request(
    case: str = typer.Argument(..., help="Case ID."),
    haplotype: str = typer.Option(..., "--haplotype", help="The trace to be searched."),
    max_mismatches: int | None = typer.Option(None, "--max-mismatches", help="Bound asked."),
    max_steps: int | None = typer.Option(None, "--max-steps", help="Bound asked."),
    min_loci: int | None = typer.Option(None, "--min-loci", help="Fewest locus copies."),
    reason: str = typer.Option(..., "--reason", help="Why familial search is needed."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Ask for a familial-search approval of one trace within bounds (a supervisor who
    did not open the case decides it)."""
    server = remote_for(db, user)
    if server is not None:
        body = {"trace": haplotype, "max_mismatches": max_mismatches, "max_steps": max_steps,
                "min_loci": min_loci, "reason": reason}  # fmt: skip
        d = server.call("POST", f"/cases/{case}/approval-requests", json=body)
        typer.echo(f"approval request {d['id']} filed in case {d['case_id']} ({d['status']})")
        return
    with _session(db, user) as session:
        r = session.request_approval(
            case, trace=haplotype, max_mismatches=max_mismatches, max_steps=max_steps,
            min_loci=min_loci, reason=reason,
        )  # fmt: skip
    typer.echo(f"approval request {r.id} filed in case {r.case_id} ({r.status})")


def approval_queue(
    all_: bool = typer.Option(False, "--all", help="Every request, not only pending ones."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """The requests this user may decide (a supervisor never sees his own cases' or
    requests), TSV."""
    server = remote_for(db, user)
    if server is not None:
        docs = server.pages("/approval-requests", {"status": "all" if all_ else "pending"})
    else:
        with _session(db, user) as session:
            docs = [r.to_dict() for r in session.approval_queue(status=None if all_ else "pending")]
    if as_json:
        emit_json({"requests": docs})
        return
    typer.echo("\t".join(REQUEST_FIELDS))
    for d in docs:
        typer.echo(_tsv([d.get(k) for k in REQUEST_FIELDS]))


def approval_show(
    request_id: int = typer.Argument(..., help="Request ID."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """One request in full, with the trace to be approved (audited read)."""
    with _session(db, user) as session:
        r = session.approval_request(request_id)
    d = r.to_dict()
    if as_json:
        emit_json(d)
        return
    for k, v in d.items():
        typer.echo(f"{k}: {'' if v is None else v}")


def approval_decide(
    request_id: int = typer.Argument(..., help="Request ID."),
    approve: bool = typer.Option(False, "--approve", help="Approve the request."),
    refuse: bool = typer.Option(False, "--refuse", help="Refuse the request."),
    reason: str = typer.Option(..., "--reason", help="The decision's reason (audited)."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Approve or refuse a request (a supervisor other than the case's opener)."""
    if approve == refuse:
        raise typer.BadParameter("give exactly one of --approve or --refuse")
    server = remote_for(db, user)
    if server is not None:
        d = server.call(
            "POST", f"/approval-requests/{request_id}/decision",
            json={"approve": approve, "reason": reason},
        )  # fmt: skip
    else:
        with _session(db, user) as session:
            d = session.decide_request(request_id, approve=approve, reason=reason).to_dict()
    extra = f"; approval {d['approval_id']}" if d.get("approval_id") is not None else ""
    typer.echo(f"request {d['id']} in case {d['case_id']}: {d['status']}{extra}")


def approval_withdraw(
    request_id: int = typer.Argument(..., help="Request ID."),
    reason: str | None = typer.Option(None, "--reason", help="Why (audited)."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Withdraw one's own pending request."""
    with _session(db, user) as session:
        r = session.withdraw_request(request_id, reason=reason)
    typer.echo(f"request {r.id} in case {r.case_id}: {r.status}")


def transparency(
    month: str | None = typer.Option(None, "--month", help="One month, YYYY-MM (UTC)."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Monthly counts of searches, familial searches, approvals, refusals, expansions,
    imports and expungements from the audit log (counts only, never names)."""
    server = remote_for(db, user)
    if server is not None:
        got = server.call("GET", "/transparency", params={"month": month})
        docs = got["months"] if isinstance(got, dict) and "months" in got else got
    else:
        with _session(db, user) as session:
            docs = [m.to_dict() for m in session.transparency(month=month)]
    if as_json:
        emit_json({"months": docs})
        return
    if not docs:
        typer.echo("no audited activity")
        return
    keys = [k for k in docs[0] if not isinstance(docs[0][k], dict)]
    typer.echo("\t".join(keys))
    for d in docs:
        typer.echo(_tsv([d[k] for k in keys]))


def user_password(
    name: str = typer.Argument(..., help="The user whose password is set."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Set a generated one-time password for the lab service (an admin; printed once,
    never stored or logged; the user must change it at first login)."""
    from patriline.casework import auth

    with _session(db, user) as session:
        password = auth.set_password(session, name)
    typer.echo(f"one-time password for {name}: {password}")
    typer.echo("give it to the user over a separate channel; it is not shown again", err=True)


def token_create(
    label: str = typer.Option(..., "--label", help="What the token is for."),
    scope: list[str] = typer.Option(..., "--scope", help="read, search or admin (repeat)."),
    days: int | None = typer.Option(None, "--days", help="Days until it expires."),
    out: Path | None = typer.Option(
        None, "--out", help="Write the secret to this file (0600) instead of printing it."
    ),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Create an API token for the acting user; the secret is shown once."""
    from patriline._files import write_private
    from patriline.casework import auth

    with _session(db, user) as session:
        tok = auth.create_token(session, label=label, scopes=scope, days=days)
    if out is not None:
        write_private(out, tok.secret + "\n")
        typer.echo(
            f"token {tok.id} ({', '.join(tok.scopes)}, expires {tok.expires_at}) written to {out}"
        )
    else:
        typer.echo(f"token {tok.id} ({', '.join(tok.scopes)}, expires {tok.expires_at}):")
        typer.echo(tok.secret)


def token_list(
    name: str | None = typer.Option(None, "--of", help="Another user's tokens (admin)."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """List API tokens (never their secrets), TSV."""
    from patriline.casework import auth

    with _session(db, user) as session:
        rows = auth.list_tokens(session, user=name)
    fields = (
        "id",
        "user",
        "label",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    typer.echo("\t".join(fields))
    for t in rows:
        d = {k: getattr(t, k) for k in fields}
        d["scopes"] = ",".join(t.scopes)
        typer.echo(_tsv([d[k] for k in fields]))


def token_revoke(
    token_id: str = typer.Argument(..., help="Token ID."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Revoke an API token (one's own; an admin any)."""
    from patriline.casework import auth

    with _session(db, user) as session:
        auth.revoke_token(session, token_id)
    typer.echo(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app (after the store concern's: ``case`` and
    ``user`` groups are its)."""
    from patriline.commands.store import user_app

    case_app.command("close")(case_close)
    approval_app.command("request")(approval_request)
    approval_app.command("queue")(approval_queue)
    approval_app.command("show")(approval_show)
    approval_app.command("decide")(approval_decide)
    approval_app.command("withdraw")(approval_withdraw)
    user_app.command("password")(user_password)
    token_app.command("create")(token_create)
    token_app.command("list")(token_list)
    token_app.command("revoke")(token_revoke)
    app.add_typer(approval_app, name="approval")
    app.add_typer(token_app, name="token")
    app.command("transparency")(transparency)
