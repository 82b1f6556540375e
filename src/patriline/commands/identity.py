"""CLI commands for identity data: ``identity import|show|new-key`` (parse, call, format).

Identities are encrypted with the store's data key, wrapped for each user who may read
them; a user's own identity key unwraps it and never enters the store
(docs/safeguards.md). ``identity register|grant|revoke`` manage who holds it. The key comes from ``--key-file`` or ``$PATRILINE_IDENTITY_KEY``,
never from a command-line value (other users of the machine could read it in the
process list). Access and audit are the library's (``Session.import_identities``,
``Session.identity``).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from patriline.commands._common import JSON_OPTION, default_user, emit_json, store_url
from patriline.errors import InputError

__all__ = ["register"]

identity_app = typer.Typer(
    help="Identity data (names, dates of birth …), encrypted; read only within a case.",
    no_args_is_help=True,
)

DB_OPTION = typer.Option(
    None, "--db", help="Store URL: a SQLite file or postgresql://… (default: $PATRILINE_DB)."
)
USER_OPTION = typer.Option(
    None, "--user", help="Acting user (default: $PATRILINE_USER, else the OS user)."
)
KEY_OPTION = typer.Option(
    None,
    "--key-file",
    help="File holding the identity key (default: $PATRILINE_IDENTITY_KEY).",
)


def _key(key_file: Path | None) -> str:
    if key_file is not None:
        try:
            return key_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise InputError(f"--key-file {key_file}: {exc.strerror}") from None
    key = os.environ.get("PATRILINE_IDENTITY_KEY")
    if not key:
        raise InputError(
            "no identity key: use --key-file FILE or set PATRILINE_IDENTITY_KEY "
            "(make one with: patriline identity new-key)"
        )
    return key


def identity_import(
    file: Path = typer.Argument(..., help="CSV: a person column and one column per field."),
    lenient: bool = typer.Option(
        False, "--lenient", help="Store the valid rows; list the rejected ones."
    ),
    key_file: Path | None = KEY_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Encrypt and store identities (one row per person): atomic unless --lenient."""
    from patriline.casework import Session

    key = _key(key_file)
    with Session.open(store_url(db), user or default_user()) as session:
        summary = session.import_identities(file, key, lenient=lenient)
    if as_json:
        emit_json(summary.to_dict())
        return
    typer.echo(
        f"{summary.rows} rows: {summary.added} added, {summary.replaced} replaced, "
        f"{summary.rejected} rejected"
    )
    for p in summary.problems:
        typer.echo(f"  rejected: {p}", err=True)


def identity_show(
    case: str = typer.Option(..., "--case", help="The case the read belongs to."),
    person: str = typer.Option(..., "--person", help="Person ID."),
    key_file: Path | None = KEY_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Decrypt one person's identity within a case (audited, also when it fails)."""
    from patriline.casework import Session

    key = _key(key_file)
    with Session.open(store_url(db), user or default_user()) as session:
        data = session.identity(case, person, key)
    if as_json:
        emit_json({"person": person, "case": case, "identity": data})
        return
    typer.echo(f"person {person} (case {case})")
    for name, value in data.items():
        typer.echo(f"  {name}: {value}")


def identity_new_key(
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write the key to this new file (mode 0600, never overwritten) instead of printing it.",
    ),
) -> None:
    """Print a fresh identity key, or write it to a new private key file (--out)."""
    from patriline._files import private_open
    from patriline.casework.stores import new_identity_key

    key = new_identity_key()
    if out is None:
        typer.echo(key)
        return
    try:
        with private_open(out, "x", encoding="utf-8") as fh:
            fh.write(key + "\n")
    except FileExistsError:
        raise InputError(f"--out {out}: file exists (a key file is never overwritten)") from None
    except OSError as exc:
        raise InputError(f"--out {out}: cannot write: {exc.strerror}") from None
    typer.echo(f"identity key written to {out} (mode 0600)")


def identity_register(
    key_file: Path | None = KEY_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Record your public identity key so a holder can grant you the data key."""
    from patriline.casework import Session

    key = _key(key_file)
    with Session.open(store_url(db), user or default_user()) as session:
        public = session.register_identity_key(key)
    typer.echo(f"public identity key registered: {public}")


def identity_grant(
    grantee: str = typer.Argument(..., help="User to grant the identity data key to."),
    key_file: Path | None = KEY_OPTION,
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Wrap the store's identity data key for a user who registered a key (admin, holder)."""
    from patriline.casework import Session

    key = _key(key_file)
    with Session.open(store_url(db), user or default_user()) as session:
        session.grant_identity_key(grantee, key)
    typer.echo(f"identity data key granted to {grantee}")


def identity_revoke(
    grantee: str = typer.Argument(..., help="User whose wrapped data key is removed."),
    db: str | None = DB_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Remove a user's wrapped identity data key (admin): he can no longer decrypt."""
    from patriline.casework import Session

    with Session.open(store_url(db), user or default_user()) as session:
        session.revoke_identity_key(grantee)
    typer.echo(f"identity data key of {grantee} revoked")


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app."""
    identity_app.command("import")(identity_import)
    identity_app.command("show")(identity_show)
    identity_app.command("new-key")(identity_new_key)
    identity_app.command("register")(identity_register)
    identity_app.command("grant")(identity_grant)
    identity_app.command("revoke")(identity_revoke)
    app.add_typer(identity_app, name="identity")
