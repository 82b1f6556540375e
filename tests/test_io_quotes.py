"""Quotes the compiled CSV scan must cut exactly where the csv module cuts.

The compiled reader (``engine="compiled"``, the default for files of 2 MB and more) once
toggled "inside quotes" on every ``"``: a quote inside an unquoted cell (``P"1``) joined
the following lines into one row, which the csv module then refused with a traceback.
These tests compare it with the pure-Python reader on such files, and check that an
unbalanced quote in a large file is an :class:`InputError` naming the file and line, and
that the refused import is audited.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patriline.casework import Session
from patriline.encoding import Layout
from patriline.errors import InputError
from patriline.io import read_encoded
from patriline.io._columnar import COMPILED_MIN_CHARS
from patriline.io.model import ReadError
from patriline.store import Database

HEADER = "specimen,person,kit,DYS19,DYS390,DYS385,DYS391,note"


def _row(i: int) -> str:
    return f'S{i:07d},P{i},yfiler_plus,14,23,"11,14",10,x'


def _large_text(rows: int, replace: dict[int, str], quotes: bool = True) -> str:
    """A wide CSV of ``rows`` rows; ``quotes=False``: DYS385 unquoted (one value), so a
    stray quote has no later quote to close it."""
    row = _row if quotes else (lambda i: _row(i).replace('"11,14"', "11"))
    lines = [HEADER] + [replace.get(i, row(i)) for i in range(rows)]
    return "\n".join(lines) + "\n"


def _same(a: object, b: object) -> None:
    assert a.problems == b.problems  # type: ignore[attr-defined]
    for attr in ("ids", "lines", "rows", "persons", "kits", "fields"):
        assert getattr(a, attr) == getattr(b, attr), attr
    np.testing.assert_array_equal(a.encoded.values, b.encoded.values)  # type: ignore[attr-defined]


QUOTED = ['P"1', 'a""b', '"x"y', ' "P2"', '"P,3"', '"14"', ' "14"', '"14" ', '"1"4"', '""']


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=st.lists(
        st.tuples(st.integers(0, 11), st.integers(0, 7), st.sampled_from(QUOTED)),
        min_size=1,
        max_size=4,
    ),
    blocks=st.integers(1, 4),
)
def test_read_encoded__compiled_quotes_equal_python(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edits: list, blocks: int
) -> None:
    """Stray, doubled and misplaced quotes: compiled (serial and block-parallel) = Python."""
    import numba

    from patriline.io import _columnar

    rows = [_row(i).split(",") for i in range(12)]
    rows = [[*r[:5], '"11,14"', *r[7:]] for r in rows]  # rejoin the quoted DYS385 cell
    for r, c, text in edits:
        rows[r][c] = text
    text = HEADER + "\n" + "\n".join(",".join(r) for r in rows) + "\n"
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8", newline="")
    layout = Layout.universal()
    python = read_encoded(path, layout, strict=False, engine="python")
    with monkeypatch.context() as m:
        m.setattr(_columnar, "PARALLEL_MIN_BYTES", 0 if blocks > 1 else 1 << 60)
        m.setattr(numba, "get_num_threads", lambda: blocks)
        compiled = read_encoded(path, layout, strict=False, engine="compiled")
    _same(compiled, python)


def test_read_encoded__large_file_with_quotes_inside_cells(tmp_path: Path) -> None:
    """A ≥ 2 MB file with quotes inside unquoted cells: no traceback, and the default
    (compiled) reading equals the Python one, line numbers included."""
    rows = 95_000
    text = _large_text(
        rows,
        {
            40_000: 'X1,P"1,yfiler_plus,14,23,"11,14",10,x',
            40_003: 'X2,P"2,yfiler_plus,14,23,"11,14",10,x',
            60_000: 'X3,"P\n3",yfiler_plus,14,23,"11,14",10,x',  # a quoted cell over two lines
        },
    )
    path = tmp_path / "big.csv"
    path.write_text(text, encoding="utf-8", newline="")
    assert path.stat().st_size >= COMPILED_MIN_CHARS
    layout = Layout.universal()
    fast = read_encoded(path, layout, strict=False)
    slow = read_encoded(path, layout, strict=False, engine="python")
    _same(fast, slow)
    assert fast.persons[fast.ids.index("X1")] == 'P"1'
    # the record after the two-line cell keeps its own line number
    assert fast.lines[fast.ids.index("S0060001")] == 60_004


@pytest.mark.parametrize("engine", ["auto", "python"])
def test_read_encoded__unbalanced_quote_in_large_file(tmp_path: Path, engine: str) -> None:
    path = tmp_path / "big.csv"
    text = _large_text(95_000, {40_000: 'X1,"P1,yfiler_plus,14,23,11,10,x'}, quotes=False)
    path.write_text(text, encoding="utf-8", newline="")
    assert path.stat().st_size >= COMPILED_MIN_CHARS
    for strict in (True, False):
        with pytest.raises(ReadError) as info:
            read_encoded(path, Layout.universal(), strict=strict, engine=engine)
        assert info.value.problem.line == 40_002
        assert str(info.value).startswith(f"{path}:40002: ")
        assert "never closed" in str(info.value)
        assert info.value.details["file"] == str(path)


def test_import_file__unbalanced_quote_refused_and_audited(
    store_fixture: Database, tmp_path: Path
) -> None:
    db = store_fixture
    path = tmp_path / "big.csv"
    path.write_text(
        _large_text(95_000, {40_000: 'X1,"P1,yfiler_plus,14,23,11,10,x'}, quotes=False),
        encoding="utf-8",
    )
    admin = db.actor("admin")
    with pytest.raises(InputError, match=r"big\.csv:40002: .*nothing was imported"):
        Session(db, admin).import_file(path)
    assert db.active_specimens() == []
    refused = Session(db, admin).audit_entries()[-1]
    assert refused.action == "import" and refused.result["added"] == 0
    assert ":40002:" in refused.result["error"] and refused.params["file"] == str(path)
    assert db.verify_audit().ok
