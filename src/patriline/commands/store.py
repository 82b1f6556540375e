"""CLI commands for the store concern (thin: parse, call the library, format).

``init``, ``user add``, ``import``, ``case open|approve``, ``audit verify|anchor|show``,
``expunge``, ``retention apply``, ``info``. Each takes ``--db URL`` and ``--user NAME``
(defaults: ``PATRILINE_DB``, ``PATRILINE_USER``, else the OS user). ``db upgrade`` and
``db grant`` are the database owner's (``--db`` is required: the owner's URL, not the
service's).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from patriline.commands._common import (
    JSON_OPTION,
    console,
    default_user,
    emit_json,
    err_console,
    store_url,
)

if TYPE_CHECKING:  # the store (SQLAlchemy) loads when a command runs
    from patriline.casework import Session
    from patriline.commands.remote import Remote

DB_OPTION = typer.Option(
    None, "--db", help="Store URL: a SQLite file or postgresql://… (default: $PATRILINE_DB)."
)
ROLE_OPTION = typer.Option(..., "--role", help="analyst, supervisor, auditor or admin.")
USER_OPTION = typer.Option(
    None, "--user", help="Acting user (default: $PATRILINE_USER, else the OS user)."
)

user_app = typer.Typer(help="Manage users and roles.", no_args_is_help=True)
case_app = typer.Typer(help="Open and approve cases.", no_args_is_help=True)
audit_app = typer.Typer(help="Check and read the audit log.", no_args_is_help=True)
retention_app = typer.Typer(help="Apply retention periods.", no_args_is_help=True)
db_app = typer.Typer(
    help="The database owner's work: migrations, and the service's least-privileged role.",
    no_args_is_help=True,
)
OWNER_DB_OPTION = typer.Option(
    ...,
    "--db",
    help="Store URL, connecting as the owner of its tables (postgresql://owner@host/db).",
)


@contextmanager
def _session(db: str | None, user: str | None, *, read_only: bool = False) -> Iterator[Session]:
    from patriline.casework import Session

    with Session.open(store_url(db), user or default_user(), read_only=read_only) as session:
        yield session


READ_ONLY_OPTION = typer.Option(
    False,
    "--read-only",
    help="Open the store read-only (an evidence copy: nothing written, no -wal/-shm files); "
    "automatic when the SQLite file or its folder is not writable.",
)


def read_only_wanted(db: str | None, flag: bool) -> bool:
    """``--read-only``, or a SQLite store whose file or folder this process cannot write
    (a read-only evidence copy: opening it for writing would fail)."""
    if flag:
        return True
    import os

    url = store_url(db)
    if url.startswith(("postgres://", "postgresql://", "postgresql+")):
        return False
    path = url.split("///", 1)[1] if url.startswith("sqlite:") else url
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.exists(path) and not (os.access(path, os.W_OK) and os.access(folder, os.W_OK)):
        err_console.print(f"note: {path} is not writable: opened read-only")
        return True
    return False


def remote_for(db: str | None, user: str | None) -> Remote | None:
    """The server of this run, or None; with a server ``--db`` and ``--user`` are refused
    (the server knows its store, and the acting user is the token's owner)."""
    from patriline.commands.remote import current
    from patriline.errors import InputError

    server = current()
    if server is not None and (db is not None or user is not None):
        raise InputError(
            "with --server the store is the server's and the acting user is the token's "
            "owner: leave out --db and --user"
        )
    return server


def init(
    url: str = typer.Argument(..., help="SQLite file path or postgresql:// URL."),
    user: str | None = USER_OPTION,
) -> None:
    """Create a new store; the user who runs it becomes its admin."""
    from patriline.casework.stores import create_store

    name = user or default_user()
    create_store(url, name)
    typer.echo(f"created store {url}; admin: {name}")


def user_add(
    name: str = typer.Argument(..., help="User name."),
    role: str = ROLE_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Add a user with a role (admin only)."""
    with _session(db, user) as session:
        session.add_user(name, role)
    typer.echo(f"added user {name} ({role})")


def import_(
    file: Path = typer.Argument(..., help="Haplotype file (wide CSV/TSV, GeneMapper, YHRD, JSON)."),
    lenient: bool = typer.Option(
        False, "--lenient", help="Import valid rows; list the rest in --rejects."
    ),
    rejects: Path | None = typer.Option(
        None, "--rejects", help="Reject file (CSV: line, specimen, reason)."
    ),
    format: str | None = typer.Option(
        None, "--format", help="csv, genemapper, yhrd or json (default: detect)."
    ),
    category: str | None = typer.Option(
        None, "--category", help="Category of rows without a category column (default unspecified)."
    ),
    allow_conflicts: bool = typer.Option(
        False,
        "--allow-conflicts",
        help="Import the other rows when a specimen is stored with a different haplotype"
        " (default: refuse the file, exit 5).",
    ),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Import a haplotype file: atomic by default (a conflict refuses it), idempotent."""
    if lenient and rejects is None:
        rejects = file.with_name(file.name + ".rejects.csv")
    from rich.progress import Progress

    with (
        _session(db, user) as session,
        Progress(console=err_console, transient=True, disable=as_json) as bar,
    ):
        task = bar.add_task("importing", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = session.import_file(
            file,
            format=format,
            lenient=lenient,
            rejects=rejects,
            category=category,
            progress=progress,
            allow_conflicts=allow_conflicts,
        )
    if as_json:
        emit_json(summary.to_dict())
        return
    typer.echo(
        f"{summary.rows} rows: {summary.added} added, {summary.unchanged} unchanged, "
        f"{summary.conflicts} conflicts, {summary.rejected} rejected (batch {summary.batch_id})"
    )
    for c in summary.conflict_details[:20]:
        typer.echo(err=True, message=f"conflict: line {c.line}, specimen {c.specimen}: {c.reason}")
    if rejects is not None and (summary.rejected or summary.conflicts):
        typer.echo(f"rejected rows and conflicts listed in {rejects}")


def case_open(
    case: str = typer.Argument(..., help="Case ID."),
    purpose: str = typer.Option(..., "--purpose", help="Why the case is opened."),
    legal_basis: str = typer.Option(
        ..., "--legal-basis", help="The law or warrant that allows it."
    ),
    case_type: str = typer.Option(
        "criminal",
        "--type",
        help="criminal, missing_person, remains_identification or quality_control.",
    ),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Open a case (searches and identity reads happen within a case)."""
    server = remote_for(db, user)
    if server is not None:
        body = {"case": case, "purpose": purpose, "legal_basis": legal_basis,
                "case_type": case_type}  # fmt: skip
        server.call("POST", "/cases", json=body)
    else:
        with _session(db, user) as session:
            session.open_case(case, purpose=purpose, legal_basis=legal_basis, case_type=case_type)
    typer.echo(f"opened case {case} ({case_type})")


def case_approve(
    case: str = typer.Argument(..., help="Case ID."),
    familial: bool = typer.Option(False, "--familial", help="Approve familial (lineage) search."),
    haplotype: str | None = typer.Option(
        None, "--haplotype", help="The trace approved (its SHA-256 is kept, not the profile)."
    ),
    trace_sha256: str | None = typer.Option(
        None, "--trace-sha256", help="The approved trace's digest (as audit entries name it)."
    ),
    pairs: bool = typer.Option(
        False, "--pairs", help="Approve one all-vs-all `pairs` run instead of a trace."
    ),
    max_mismatches: int | None = typer.Option(
        None, "--max-mismatches", help="Most mismatches a search may allow."
    ),
    max_steps: int | None = typer.Option(
        None, "--max-steps", help="Most steps a search may allow."
    ),
    min_loci: int | None = typer.Option(
        None, "--min-loci", help="Fewest locus copies a search may ask (default: the floor)."
    ),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Approve familial search for one trace and bounds (a supervisor who did not open
    the case); the approval expires and is used up (search_policy.toml)."""
    if not familial:
        raise typer.BadParameter("say what is approved: --familial")
    if sum(x is not None for x in (haplotype, trace_sha256)) + pairs != 1:
        raise typer.BadParameter("name what is approved: --haplotype, --trace-sha256 or --pairs")
    digest = trace_sha256
    if haplotype is not None:
        from patriline.search.api import parse_query, trace_digest

        digest = trace_digest(parse_query(haplotype))
    with _session(db, user) as session:
        a = session.approve_case(case, familial=True, kind="pairs" if pairs else "search",
            trace_sha256=digest, max_mismatches=max_mismatches, max_steps=max_steps,
            min_loci=min_loci,
        ).approval  # fmt: skip
    assert a is not None
    what = "pairs" if pairs else f"trace {a.trace_sha256[:12] if a.trace_sha256 else ''}…"
    typer.echo(
        f"case {case} approved for familial search ({what}, max mismatches "
        f"{a.max_mismatches}, max steps {a.max_steps}, min loci {a.min_loci}; "
        f"{a.uses_left} use(s), expires {a.expires_at[:10]}; approval {a.id})"
    )


def case_revoke(
    case: str = typer.Argument(..., help="Case ID."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Revoke every familial approval of a case (a supervisor)."""
    with _session(db, user) as session:
        n = session.revoke_approvals(case)
    typer.echo(f"case {case}: {n} approval(s) revoked")


def audit_verify(
    db: str | None = DB_OPTION,
    anchor: list[Path] | None = typer.Option(
        None,
        "--anchor",
        help="Anchor file(s) written by `audit anchor`: the chain must still extend them.",
    ),
    read_only: bool = READ_ONLY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Check the audit hash chain and the rows bound to it (users, cases, approvals); exit
    1 and name the first broken entry, or the table and key of a forged row, if it fails."""
    from types import SimpleNamespace

    from patriline.casework.stores import read_anchors, verify_chain

    anchors = [a for path in anchor or [] for a in read_anchors(path)]
    server = remote_for(db, None)
    if server is not None:  # the server verifies its store (an audited check)
        if anchors:
            from patriline.errors import InputError

            raise InputError("--anchor is checked on the store itself: run it without --server")
        doc = server.call("GET", "/audit/verify")
        keys = ("ok", "entries", "first_bad_id", "table", "key", "reason")
        result: Any = SimpleNamespace(**{k: doc.get(k) for k in keys})
    else:
        result = verify_chain(store_url(db), anchors, read_only=read_only_wanted(db, read_only))
    if as_json:
        emit_json(
            {
                "ok": result.ok,
                "entries": result.entries,
                "anchors": len(anchors),
                "first_bad_id": result.first_bad_id,
                "table": result.table,
                "key": result.key,
                "reason": result.reason,
            }
        )
    elif result.ok:
        against = f"; extends {len(anchors)} anchor(s)" if anchors else ""
        typer.echo(f"audit log OK: {result.entries} entries, chain intact{against}")
    else:
        where = (
            f"at entry {result.first_bad_id}"
            if result.table is None
            else f"in {result.table} row {result.key}"
        )
        typer.echo(err=True, message=f"audit log BROKEN {where}: {result.reason}")
    if not result.ok:
        raise typer.Exit(1)


def audit_anchor(
    db: str | None = DB_OPTION,
    out: Path | None = typer.Option(
        None, "--out", help="Append the anchor line to this file (kept outside the store)."
    ),
) -> None:
    """Print the verified chain head as one JSON line (entries, hash, time) to keep
    outside the store; `audit verify --anchor FILE` later proves the log was not
    rewritten up to it."""
    from patriline.casework.stores import anchor_chain

    line = anchor_chain(store_url(db)).to_line()
    if out is not None:
        with out.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
    typer.echo(line)


def audit_show(
    case: str | None = typer.Option(None, "--case", help="Only entries of this case."),
    limit: int | None = typer.Option(None, "--limit", help="Only the newest N entries."),
    by_user: str | None = typer.Option(
        None, "--by-user", help="Only entries by this user (--user names who is reading)."
    ),
    action: str | None = typer.Option(None, "--action", help="Only this action (e.g. search)."),
    since: str | None = typer.Option(None, "--since", help="At or after this ISO date/time."),
    until: str | None = typer.Option(None, "--until", help="Up to this ISO date (inclusive)."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    read_only: bool = READ_ONLY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show audit entries (auditors, supervisors, admins): on a terminal a table, else TSV
    with whole values."""
    import sys

    with _session(db, user, read_only=read_only_wanted(db, read_only)) as session:
        entries = session.audit_entries(
            case=case, limit=limit, by_user=by_user, action=action, since=since, until=until
        )
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    columns = ("id", "time", "user", "role", "case", "purpose", "action", "params", "result")
    rows = [
        (str(e.id), e.at, e.user, e.role or "", e.case or "", e.purpose or "", e.action,
         _short(e.params), _short(e.result))
        for e in entries
    ]  # fmt: skip
    if not sys.stdout.isatty():
        typer.echo("\t".join(columns))
        for r in rows:
            typer.echo("\t".join(x.replace("\t", " ").replace("\n", " ") for x in r))
        return
    from rich.table import Table

    table = Table(*columns)
    for r in rows:
        table.add_row(r[0], r[1][:19], *r[2:])
    console.print(table)


def _short(d: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in d.items() if v not in (None, False))


def expunge(
    specimen: str = typer.Argument(..., help="Specimen ID."),
    reason: str = typer.Option(..., "--reason", help="Why (court order, acquittal, …): audited."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Remove a specimen's haplotype, identity and derived rows; leave a tombstone.

    Without ``--yes`` it says what it will remove and asks (on a terminal only)."""
    if not yes:
        import sys

        from patriline.errors import InputError

        what = (
            f"expunge will remove specimen {specimen!r}: its haplotype, identity, paternal "
            f"links and person (if no other specimen names it); reason {reason!r}"
        )
        if not sys.stdin.isatty():
            raise InputError(f"{what}; stdin is not a terminal: pass --yes to confirm")
        typer.echo(what)
        if not typer.confirm("Proceed?", default=False):
            raise typer.Exit(1)
    with _session(db, user) as session:
        report = session.expunge(specimen, reason)
    if as_json:
        emit_json(report.to_dict())
        return
    typer.echo(_describe(report))


def _describe(r: object) -> str:
    d = r.to_dict()  # type: ignore[attr-defined]
    extra = []
    if d["person_removed"]:
        extra.append(f"person {d['person']}")
    if d["identity_removed"]:
        extra.append("identity")
    if d["links_removed"]:
        extra.append(f"{d['links_removed']} paternal links")
    tail = f" (also removed: {', '.join(extra)})" if extra else ""
    return f"expunged specimen {d['specimen']}{tail}; audit entry {d['audit_id']}"


def retention_apply(
    today: str | None = typer.Option(
        None, "--today", help="Date to apply (YYYY-MM-DD; default today)."
    ),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="List what would be expunged; remove nothing (audited)."
    ),
) -> None:
    """Expunge every specimen whose retention date has passed."""
    if dry_run:
        with _session(db, user) as session:
            due = session.retention_due(today)
        if as_json:
            emit_json(due)
            return
        typer.echo(f"retention (dry run): {len(due)} specimens due: {', '.join(due)}")
        return
    with _session(db, user) as session:
        reports = session.apply_retention(today)
    if as_json:
        emit_json([r.to_dict() for r in reports])
        return
    for r in reports:
        typer.echo(_describe(r))
    typer.echo(f"retention: {len(reports)} specimens expunged")


def info(
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    read_only: bool = READ_ONLY_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Counts: specimens by category, persons, links, cases, audit entries (users of the store)."""
    with _session(db, user, read_only=read_only_wanted(db, read_only)) as session:
        i = session.store.info()
    if as_json:
        emit_json(i.to_dict())
        return
    typer.echo(f"store {i.url} ({i.dialect}, schema {i.revision})")
    typer.echo(f"specimens: {i.specimens}")
    for cat, n in sorted(i.specimens_by_category.items()):
        typer.echo(f"  {cat}: {n}")
    typer.echo(
        f"persons: {i.persons} (identities {i.identities}); paternal links: {i.links}; "
        f"cases: {i.cases}; users: {i.users}; import batches: {i.batches}; "
        f"audit entries: {i.audit_entries}; change seq: {i.change_seq}"
    )


def user_list(db: str | None = DB_OPTION, user: str | None = USER_OPTION) -> None:
    """List the users and their roles (TSV: name, role)."""
    with _session(db, user) as session:
        actors = session.users()
    for a in actors:
        typer.echo(f"{a.name}\t{a.role}")


def user_set_role(
    name: str = typer.Argument(..., help="User name."),
    role: str = ROLE_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Change a user's role (admin only; audited)."""
    with _session(db, user) as session:
        session.set_role(name, role)
    typer.echo(f"user {name} is now {role}")


def case_list(db: str | None = DB_OPTION, user: str | None = USER_OPTION) -> None:
    """List the cases (TSV: id, opened_by, opened_at, purpose)."""
    server = remote_for(db, user)
    if server is not None:
        for c in server.pages("/cases"):
            typer.echo(f"{c['id']}\t{c['opened_by']}\t{c['opened_at']}\t{c['purpose']}")
        return
    with _session(db, user) as session:
        cases = session.list_cases()
    for c in cases:
        typer.echo(f"{c.id}\t{c.opened_by}\t{c.opened_at}\t{c.purpose}")


def case_show(
    case: str = typer.Argument(..., help="Case ID."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Show a case: purpose, legal basis, opener and its live familial approval (no profiles)."""
    server = remote_for(db, user)
    if server is not None:
        d = server.call("GET", f"/cases/{case}")
    else:
        import dataclasses

        with _session(db, user) as session:
            c = session.case(case)
        d = dataclasses.asdict(c) | {"closed": c.closed}
    approval = (
        f"{d['familial_approved_by']} at {d['familial_approved_at']}"
        if d.get("familial_approved_by")
        else "none"
    )
    closed = (
        f"\nclosed by {d.get('closed_by')} at {d.get('closed_at')}: {d.get('closed_reason')}"
        if d.get("closed")
        else ""
    )
    typer.echo(
        f"case {d['id']} ({d.get('case_type') or 'criminal'})\npurpose: {d['purpose']}\n"
        f"legal basis: {d['legal_basis']}\nopened by {d['opened_by']} at {d['opened_at']}\n"
        f"familial approval: {approval}{closed}"
    )


def db_upgrade(db: str = OWNER_DB_OPTION) -> None:
    """Migrate the store to this version's schema, as the owner of its tables (the
    service's role may not: it cannot run DDL)."""
    from patriline.casework.stores import upgrade_store

    before, after = upgrade_store(db)
    if before == after:
        typer.echo(f"store is up to date (schema revision {after})")
    else:
        typer.echo(f"store migrated from schema revision {before} to {after}")


def db_grant(
    db: str = OWNER_DB_OPTION,
    role: str = typer.Option(
        ..., "--role", help="The existing PostgreSQL login role the service connects as."
    ),
    show_sql: bool = typer.Option(False, "--sql", help="Also print the statements run."),
) -> None:
    """Give a PostgreSQL role the service's privileges and no more: read and write the
    data tables, only SELECT and INSERT the audit log, only read the schema revision, no
    DDL. Idempotent; run it again after every `db upgrade`."""
    from patriline.casework.stores import grant_service_role

    report = grant_service_role(db, role)
    if show_sql:
        for statement in report.statements:
            typer.echo(statement + ";")
    typer.echo(
        f"role {report.role} on {report.database}.{report.schema} (tables owned by "
        f"{report.owner}): read/write {len(report.read_write)} tables, "
        f"append-only {', '.join(report.append_only)}, "
        f"read-only {', '.join(report.read_only)}; no CREATE, owns nothing"
    )


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app."""
    app.command()(init)
    app.command("import")(import_)
    app.command()(expunge)
    app.command()(info)
    user_app.command("add")(user_add)
    case_app.command("open")(case_open)
    case_app.command("approve")(case_approve)
    case_app.command("revoke")(case_revoke)
    case_app.command("list")(case_list)
    case_app.command("show")(case_show)
    user_app.command("list")(user_list)
    user_app.command("set-role")(user_set_role)
    audit_app.command("verify")(audit_verify)
    audit_app.command("anchor")(audit_anchor)
    audit_app.command("show")(audit_show)
    retention_app.command("apply")(retention_apply)
    app.add_typer(user_app, name="user")
    app.add_typer(case_app, name="case")
    app.add_typer(audit_app, name="audit")
    app.add_typer(retention_app, name="retention")
    db_app.command("upgrade")(db_upgrade)
    db_app.command("grant")(db_grant)
    app.add_typer(db_app, name="db")
