"""The format registry (issue 11 item 5): a new file format is one module plus one entry."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest

import patriline.io as pio
from patriline.errors import InputError
from patriline.haplotype import parse_haplotype_string
from patriline.io import Format, Problem, ReadError, ReadResult, Record, formats
from patriline.io._text import read_text
from patriline.reference import Catalog, Kit

MAGIC = "#toy-haplotypes"


def read_toy(
    path: str | Path,
    *,
    strict: bool = True,
    catalog: Catalog,
    kit: Kit | None = None,
    text: str | None = None,
) -> ReadResult:
    """``#toy-haplotypes`` then one ``SPECIMEN: DYS19=14,DYS390=24`` per line."""
    text = read_text(path) if text is None else text
    records, problems, rows = [], [], 0
    for number, line in enumerate(text.splitlines(), 1):
        if number == 1 or not line.strip():
            continue
        rows += 1
        specimen, _, alleles = line.partition(":")
        try:
            hap = parse_haplotype_string(alleles.strip(), kit=kit)
        except InputError as exc:
            problem = Problem(str(path), number, str(exc), specimen=specimen.strip())
            if strict:
                raise ReadError(problem) from None
            problems.append(problem)
            continue
        records.append(Record(specimen.strip(), hap, number))
    return ReadResult(str(path), "toy", rows, records, problems)


def write_toy(
    records: Sequence[Record],
    path: str | Path,
    *,
    loci: Iterable[str] | None = None,
    catalog: Catalog,
) -> int:
    lines = [MAGIC] + [f"{r.specimen}: {r.haplotype}" for r in records]
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(records)


TOY = Format(
    "toy",
    read_toy,
    write_toy,
    aliases=("toyfmt",),
    patterns=("*.toy",),
    sniff=lambda text: text.startswith(MAGIC),
    description="a format that exists only in this test",
)


@pytest.fixture
def toy() -> Iterator[Format]:
    formats.register(TOY)
    yield TOY
    formats.unregister("toy")


def test_registry__a_registered_format_reads_and_writes_through_io(
    toy: Format, tmp_path: Path
) -> None:
    recs = [
        Record("S1", parse_haplotype_string("DYS19=14,DYS390=24"), 2),
        Record("S2", parse_haplotype_string("DYS19=15,DYS390=23"), 3),
    ]
    out = tmp_path / "two.toy"
    assert pio.write(recs, out) == 2  # chosen by the name pattern
    assert out.read_text().startswith(MAGIC)
    back = pio.read(out)
    assert back.format == "toy"
    assert [(r.specimen, str(r.haplotype)) for r in back.records] == [
        (r.specimen, str(r.haplotype)) for r in recs
    ]
    # by content (a name no pattern claims) and by alias
    plain = tmp_path / "two.dat"
    plain.write_text(out.read_text())
    assert pio.detect_format(plain, plain.read_text()) == "toy"
    assert pio.read(plain).rows == 2
    assert pio.check_format("TOYFMT") == "toy"
    # and the converted file reads back as wide CSV with the same haplotypes
    csv = tmp_path / "two.csv"
    pio.write(back.records, csv)
    assert pio.read(csv).format == "csv"
    assert pio.read(tmp_path / "two.csv").accepted == 2


def test_registry__unregistered_format_is_unknown(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown format 'toy'; known formats: csv, genemapper"):
        pio.check_format("toy")
    p = tmp_path / "x.toy"
    p.write_text(MAGIC + "\nS1: DYS19=14\n")
    with pytest.raises(ReadError):  # without the entry it is read as wide CSV, and fails
        pio.read(p)


def test_registry__names_must_be_new() -> None:
    clash = Format("wide2", read_toy, write_toy, aliases=("TSV",))
    with pytest.raises(ValueError, match="tsv"):
        formats.register(clash)
    with pytest.raises(ValueError, match="built-in"):
        formats.unregister("csv")
    assert [f.name for f in formats.formats()] == ["csv", "genemapper", "yhrd", "json"]
    assert pio.FORMATS == ("csv", "genemapper", "yhrd", "json")


def test_registry__builtin_records_match_the_old_detection(tmp_path: Path) -> None:
    """The table each module declares reproduces the old name rules."""
    cases = {
        "a.json": "json",
        "a.yhrd.txt": "yhrd",
        "a.yhrd": "yhrd",
        "a.gm.txt": "genemapper",
        "b.genemapper.csv": "genemapper",
        "a.csv": None,
        "a.tsv": None,
    }
    for name, fmt in cases.items():
        found = formats.by_file_name(name)
        assert (found.name if found else None) == fmt, name
