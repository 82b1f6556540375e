"""The compiled/columnar readers equal the row-wise reader on messy generated files.

``read_encoded`` (numba tokenizer + happy-path cell parser, flagged rows re-read row-wise)
and ``read`` (columnar) must give the same records and problems as the plain row-wise
rules; the reference is ``encode(read(...))`` and the problems of ``read``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patriline.encoding import Layout, encode
from patriline.haplotype import AlleleError, Haplotype
from patriline.io import read, read_encoded

HEADER = ["id", "kit", "DYS19", "DYS385", "DYS458", "category", "dyf387s1", "DYS390"]
CELLS = ["14", " 15 ", "13.2", "15.2", "", "NA", "OL", "null", "999", "-3", "15.7", "x",
         '"11,14"', '"11, 14"', "12", '"14,15"', '"11,12,13"', '" 16 "', "35", '"35,37"',
         "24", "0", '"a""b"', "1,2", '"11,-"', '"11,NA"', '"35,-"', '"11,-,-"']  # fmt: skip
KITS = ["", "", "yfiler_plus", " Yfiler Plus ", "minimal", "yfilre"]
IDS = ["A", "B", "C", "A", "", " D ", '"E,1"', '" F "', "G"]


@st.composite
def messy_csv(draw: st.DrawFn) -> str:
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [",".join(HEADER)]
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", "  ", ",,,,,,"])))
            continue
        cells = [draw(st.sampled_from(IDS))] + [draw(st.sampled_from(CELLS)) for _ in HEADER[1:]]
        if kind == 1:
            cells = cells[: draw(st.integers(1, len(cells)))]
        elif kind == 2:
            cells += [draw(st.sampled_from(["", "x"]))]
        lines.append(",".join(cells))
    return eol.join(lines) + eol


def reference_read(text: str) -> list[tuple[str, dict[str, object]]]:
    """Independent: the csv module and ``Haplotype.parse`` (core), row by row."""
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if any(c.strip() for c in r)]
    header, out, seen = rows[0], [], set()
    for cells in rows[1:]:
        cells = [c.strip() for c in cells]
        if len(cells) > len(header) and any(cells[len(header) :]):
            continue
        cells += [""] * (len(header) - len(cells))
        specimen = cells[0]
        values = {
            h: c for h, c in zip(header, cells, strict=False) if h not in ("id", "kit", "category")
        }
        try:
            hap = Haplotype.parse(values, kit=cells[1] or None)
        except (AlleleError, ValueError, KeyError):  # KeyError: UnknownKitError
            continue
        if specimen and specimen not in seen:
            seen.add(specimen)
            out.append((specimen, dict(hap.alleles)))
    return out


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=messy_csv(), engine=st.sampled_from(["compiled", "python"]))
def test_read_encoded__equals_row_wise_reader(tmp_path: Path, text: str, engine: str) -> None:
    path = tmp_path / "m.csv"
    path.write_text(text, encoding="utf-8", newline="")
    layout = Layout.universal()
    slow = read(path, strict=False)
    assert slow.rows == slow.accepted + len({p.line for p in slow.problems})
    assert [(r.specimen, dict(r.haplotype.alleles)) for r in slow.records] == reference_read(text)
    fast = read_encoded(path, layout, strict=False, engine=engine)
    assert fast.problems == slow.problems
    assert fast.ids == [r.specimen for r in slow.records]
    assert fast.lines == [r.line for r in slow.records]
    assert fast.rows == slow.rows
    expected = encode([r.haplotype for r in slow.records], layout)
    np.testing.assert_array_equal(fast.encoded.values, expected.values)
    assert fast.encoded.extras == expected.extras


def test_read__compiled_path_on_a_large_file(tmp_path: Path) -> None:
    """A file above ``COMPILED_MIN_CHARS`` is read by the compiled scan; records and problems
    equal the pure-Python columnar reading of the same file (``engine="python"``)."""
    from patriline.encoding import Encoded
    from patriline.io import write_encoded
    from patriline.io._columnar import COMPILED_MIN_CHARS

    layout = Layout.for_kit("yfiler_plus")
    rng = np.random.default_rng(3)
    n = 26_000
    values = (rng.integers(12, 16, size=(layout.n_columns, n)) * 10).astype(np.int16)
    values.sort(axis=0)  # keeps multi-copy pairs sorted, as encode() does
    ids = [f"S{i}" for i in range(n)]
    path = tmp_path / "big.csv"
    write_encoded(ids, Encoded(layout, values), path)
    with open(path, "a", encoding="utf-8") as fh:  # a few rows for the row-wise checks
        width = len(layout.loci)
        fh.write("S1," + ",".join(["14"] * width) + "\n")  # duplicate ID
        fh.write("X1," + ",".join(["OL"] + ["NA"] * (width - 1)) + "\n")
        fh.write("X2," + ",".join(["999"] * width) + "\n")
        fh.write("\n,\n")
    assert path.stat().st_size >= COMPILED_MIN_CHARS
    fast = read(path, strict=False)
    reference = read_encoded(path, layout, strict=False, engine="python")
    assert fast.rows == reference.rows == n + 3
    assert fast.problems == reference.problems and len(fast.problems) > 2
    assert [r.specimen for r in fast.records] == reference.ids
    decoded = encode([r.haplotype for r in fast.records], layout)
    np.testing.assert_array_equal(decoded.values, reference.encoded.values)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    text=messy_csv(),
    blocks=st.integers(2, 7),
    multiline=st.sampled_from(["", 'Z,,"14\n",15\n', 'Z,,"14\n']),
)
def test_read_encoded__parallel_blocks_equal_serial_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, blocks: int, multiline: str
) -> None:
    """The block-parallel scan (``scan_wide_blocks``) reads exactly what the serial scan
    reads, also when the text cannot be cut into blocks (a quoted cell over lines)."""
    import numba

    from patriline.io import _columnar

    path = tmp_path / "m.csv"
    path.write_text(text + multiline, encoding="utf-8", newline="")
    layout = Layout.universal()
    with monkeypatch.context() as m:
        m.setattr(_columnar, "PARALLEL_MIN_BYTES", 1 << 60)
        serial = read_encoded(path, layout, strict=False, engine="compiled")
    with monkeypatch.context() as m:
        m.setattr(_columnar, "PARALLEL_MIN_BYTES", 0)
        m.setattr(numba, "get_num_threads", lambda: blocks)
        parallel = read_encoded(path, layout, strict=False, engine="compiled")
    assert parallel.problems == serial.problems
    assert (parallel.ids, parallel.lines, parallel.rows) == (serial.ids, serial.lines, serial.rows)
    assert (parallel.persons, parallel.kits, parallel.fields) == (
        serial.persons,
        serial.kits,
        serial.fields,
    )
    np.testing.assert_array_equal(parallel.encoded.values, serial.encoded.values)
    assert parallel.encoded.extras == serial.encoded.extras
