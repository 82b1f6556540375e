"""One error hierarchy: exit codes, HTTP statuses, ``to_dict()``, the CLI's JSON error
shape, field names mapped to flags, and no traceback for broken input."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from patriline.cli import app, main
from patriline.errors import (
    AccessDenied,
    ConflictError,
    DatabaseBusy,
    InputError,
    InternalError,
    NotFound,
    PatrilineError,
    StoreUnavailable,
)
from patriline.haplotype import AlleleError, HaplotypeError, parse_haplotype_string
from patriline.io.model import Problem, ReadError
from patriline.reference import UnknownKitError, UnknownLocusError, default_catalog
from patriline.simulate.reach import reach

#: The one JSON error shape of ``--json`` (and of the HTTP service).
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "additionalProperties": False,
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z_]+$"},
                "message": {"type": "string", "minLength": 1},
                "details": {"type": "object"},
            },
        }
    },
}


@pytest.mark.parametrize(
    ("cls", "exit_code", "http", "code"),
    [
        (InputError, 2, 400, "input_error"),
        (AccessDenied, 3, 403, "access_denied"),
        (NotFound, 4, 404, "not_found"),
        (ConflictError, 5, 409, "conflict"),
        (DatabaseBusy, 6, 503, "database_busy"),
        (StoreUnavailable, 7, 503, "store_unavailable"),
        (InternalError, 70, 500, "internal_error"),
    ],
)
def test_error_classes__codes_and_to_dict(
    cls: type[PatrilineError], exit_code: int, http: int, code: str
) -> None:
    exc = cls("max_mismatches must not be negative", field="max_mismatches", line=None)
    assert isinstance(exc, PatrilineError)
    assert (exc.exit_code, exc.http_status, exc.code) == (exit_code, http, code)
    doc = exc.to_dict()
    jsonschema.validate(doc, ERROR_SCHEMA)
    assert doc == {
        "error": {
            "code": code,
            "message": "max_mismatches must not be negative",
            "details": {"field": "max_mismatches"},  # None values are dropped
        }
    }
    json.dumps(doc)


def test_error_classes__exit_codes_distinct() -> None:
    classes = [InputError, AccessDenied, NotFound, ConflictError, DatabaseBusy, StoreUnavailable]
    codes = [c.exit_code for c in [*classes, InternalError]]
    assert len(set(codes)) == len(codes) and 1 not in codes  # 1 means "problems found"


def test_input_errors__allele_locus_kit_are_patriline_errors() -> None:
    """The former outsiders are InputErrors (and still the built-ins callers catch)."""
    with pytest.raises(AlleleError) as allele:
        parse_haplotype_string("DYS19=x")
    assert isinstance(allele.value, InputError) and isinstance(allele.value, ValueError)
    assert allele.value.details == {"locus": "DYS19", "value": "x", "reason": "not a repeat number"}
    with pytest.raises(UnknownLocusError) as locus:
        default_catalog().locus("DYS999")
    assert isinstance(locus.value, InputError) and isinstance(locus.value, KeyError)
    assert locus.value.details["locus"] == "DYS999"
    with pytest.raises(UnknownKitError) as kit:
        default_catalog().kit("yfilre")
    assert isinstance(kit.value, InputError) and isinstance(kit.value, KeyError)
    assert str(kit.value).startswith("unknown kit 'yfilre'; known kits:")
    with pytest.raises(HaplotypeError, match="locus DYS19 given twice"):
        parse_haplotype_string("DYS19=14,DYS19=15")
    read = ReadError(Problem("f.csv", 3, "not a repeat number", "DYS19", "A", "DYS19", "x"))
    assert read.to_dict()["error"]["details"]["line"] == 3


def test_parse_haplotype_string__field_names_the_input() -> None:
    with pytest.raises(AlleleError) as info:
        parse_haplotype_string("DYS19=x", field="haplotype")
    assert str(info.value) == "haplotype: locus DYS19 value 'x': not a repeat number"
    assert info.value.details["field"] == "haplotype"


def test_messages_name_fields__cli_names_flags(capsys: pytest.CaptureFixture[str]) -> None:
    """The library names the field; the CLI prints its flag."""
    with pytest.raises(InputError) as info:
        reach(None, ["yfiler"], [0.1], max_mismatches=-1)  # type: ignore[arg-type]
    assert str(info.value).startswith("max_mismatches must not be negative")
    assert info.value.details["field"] == "max_mismatches"
    code = main(["simulate", "--males", "-5", "--generations", "3", "--seed", "1", "--out", "x"])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: --males must be at least 1")


def _json_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    doc = json.loads(out)
    jsonschema.validate(doc, ERROR_SCHEMA)
    assert err.startswith("error: ") or "Error: " in err  # ours, or click's usage text
    return code, doc["error"]


def test_cli_json_errors__one_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PATRILINE_DB", raising=False)
    monkeypatch.setenv("PATRILINE_USER", "boss")
    bad = tmp_path / "bad.csv"
    bad.write_text("specimen,DYS19\nA,x\n", encoding="utf-8")
    store = str(tmp_path / "s.db")
    assert main(["init", store]) == 0
    capsys.readouterr()
    simulate = ["simulate", "--males", "-5", "--generations", "3", "--seed", "1", "--out"]
    simulate += [str(tmp_path / "o"), "--json"]
    cases: list[tuple[list[str], int, str]] = [
        (["convert", str(bad), str(tmp_path / "o.json"), "--json"], 2, "input_error"),
        (["kits", "--kit", "yfilre", "--json"], 2, "input_error"),
        (["import", str(bad), "--db", store, "--json"], 2, "input_error"),
        (["info", "--db", str(tmp_path / "none.db"), "--json"], 4, "not_found"),
        (["import", str(bad), "--db", store, "--user", "eve", "--json"], 4, "not_found"),
        (
            ["search", "--case", "C1", "--haplotype", "DYS19=x", "--db", store, "--json"],
            2,
            "input_error",
        ),
        (simulate, 2, "input_error"),
        (["search", "--no-such-flag", "--json"], 2, "usage_error"),
    ]
    for argv, exit_code, code in cases:
        got, error = _json_error(capsys, argv)
        assert (got, error["code"]) == (exit_code, code), (argv, error)
    _, error = _json_error(capsys, ["import", str(bad), "--db", store, "--json"])
    assert error["details"]["line"] == 2 and error["details"]["locus"] == "DYS19"


BROKEN: list[list[str]] = [
    ["convert", "/nonexistent/x.csv", "/nonexistent/y.json"],
    ["search", "--case", "C1", "--haplotype", "DYS19=14;DYS19"],
    ["search", "--case", "C1", "--haplotype", "DYS999=14"],
    ["search", "--case", "C1", "--haplotype", "DYS19=" + "9" * 300],
    ["kits", "--kit", "nope"],
    ["info", "--db", "mysql://x@y/z"],
    ["info", "--db", "/nonexistent/dir/store.db"],
    ["reach", "--males", "50", "--generations", "3", "--max-mismatches", "-1"],
    ["report", "--case", "C1", "--specimen", "A", "--haplotype", "=", "--db", "x.db"],
]


@pytest.mark.parametrize("argv", BROKEN, ids=lambda a: " ".join(a)[:40])
def test_cli__broken_input_no_traceback(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATRILINE_USER", "boss")
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code in (2, 3, 4, 5)
    assert err.startswith("error: ") or "Error" in err  # ours, or click's usage error
    assert len(err) < 2000


def test_cli__internal_error_without_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug is ``error: internal error …`` with its own exit code; the traceback only
    with ``PATRILINE_DEBUG=1``."""

    import typer

    json_option = typer.Option(False, "--json")

    def boom(as_json: bool = json_option) -> None:
        raise ZeroDivisionError("a bug")

    app.command("boom-for-test")(boom)
    try:
        monkeypatch.delenv("PATRILINE_DEBUG", raising=False)
        code = main(["boom-for-test"])
        _, err = capsys.readouterr()
        assert code == InternalError.exit_code == 70
        assert err.startswith("error: internal error (ZeroDivisionError: a bug)")
        assert "PATRILINE_DEBUG=1" in err and "Traceback" not in err
        code, error = _json_error(capsys, ["boom-for-test", "--json"])
        assert (code, error["code"]) == (70, "internal_error")
        monkeypatch.setenv("PATRILINE_DEBUG", "1")
        assert main(["boom-for-test"]) == 70
        assert "Traceback" in capsys.readouterr().err
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.name != "boom-for-test"
        ]
