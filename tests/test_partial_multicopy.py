"""Class of defect (issue 14 item 2): a partly typed multi-copy locus became a homozygote.

``DYS385a = 11`` with ``DYS385b`` empty was stored as ``11,11``, so the man's true match
``11,14`` was one mismatch away and an exact search missed him. A copy not called now
stays missing (``11,-``) in every reader and writer, the encoding, the store, search,
counting, the discrete Laplace estimate and donor ranking. Expected values here are
worked by hand or counted independently with :func:`patriline.haplotype.compare`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from patriline.casework import Session
from patriline.encoding import Layout, decode, encode
from patriline.haplotype import (
    Allele,
    AlleleError,
    AlleleKind,
    Haplotype,
    compare,
    parse_allele,
    parse_haplotype_string,
)
from patriline.io import read, write
from patriline.io.model import Record
from patriline.reference import default_catalog
from patriline.stats.frequency import count_matches
from patriline.stats.reference_set import ReferenceSet
from patriline.store import Database

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CATALOG = default_catalog()
DYS385 = CATALOG.locus("DYS385")


def _messy() -> dict[str, Haplotype]:
    return {r.specimen: r.haplotype for r in read(EXAMPLES / "messy_lab_export.csv").records}


def test_reader__per_copy_columns_keep_a_copy_not_called() -> None:
    """LAB-004 of the example export: DYS385a = 11, DYS385b empty."""
    lab4 = _messy()["LAB-004"]
    assert lab4["DYS385"] == Allele(AlleleKind.VALUE, (110,))
    assert lab4["DYS385"].partial(2)
    assert lab4.to_dict()["DYS385"] == "11,-"


def test_compare__partial_copy_is_never_a_mismatch() -> None:
    """LAB-004 against LAB-001 (same man, fully typed DYS385 = 11,14): no mismatch; the
    locus is compared on the one copy called."""
    rows = _messy()
    c = compare(rows["LAB-004"], rows["LAB-001"])
    assert (c.mismatches, c.steps) == (0, 0)
    assert c["DYS385"].compared == 1
    off = compare(parse_haplotype_string("DYS385=12,-"), parse_haplotype_string("DYS385=11,14"))
    assert (off["DYS385"].compared, off.mismatches, off.steps) == (1, 1, 1)  # 12 pairs with 11


def test_parse__cell_notation() -> None:
    assert parse_allele("11,-", DYS385) == Allele(AlleleKind.VALUE, (110,))
    assert parse_allele("11, NA", DYS385) == Allele(AlleleKind.VALUE, (110,))
    assert parse_allele("11", DYS385) == Allele(AlleleKind.VALUE, (110, 110))  # one peak
    assert parse_allele("-,-", DYS385).kind is AlleleKind.MISSING
    with pytest.raises(AlleleError, match="3 copies given for a locus of 2"):
        parse_allele("11,14,-", DYS385)
    with pytest.raises(AlleleError, match="locus of 1"):
        parse_allele("14,-", CATALOG.locus("DYS19"))


@pytest.mark.parametrize(
    "fmt, suffix", [("csv", ".csv"), ("json", ".json"), ("genemapper", ".txt"), ("yhrd", ".tsv")]
)
def test_writers__round_trip_partial(tmp_path: Path, fmt: str, suffix: str) -> None:
    h = parse_haplotype_string("DYS19=14;DYS385=11,-;DYF399S1=22,25,-;DYS390=24")
    out = tmp_path / f"out{suffix}"
    write([Record("S1", h, 2)], out, format=fmt)
    back = read(out, format=fmt).records
    got = back[0].haplotype
    assert got["DYS385"] == Allele(AlleleKind.VALUE, (110,))
    assert got["DYF399S1"] == Allele(AlleleKind.VALUE, (220, 250))
    assert got == h


def test_encoding__lossless() -> None:
    h = parse_haplotype_string("DYS385=11,-;DYS19=14")
    enc = encode([h], Layout.for_loci(["DYS19", "DYS385"]))
    assert enc.values[:, 0].tolist() == [140, 110, -1]
    assert decode(enc)[0] == h


def test_store__exact_search_finds_the_full_profile(
    store_fixture: Database, tmp_path: Path
) -> None:
    """The defect's example end to end: the store holds LAB-001 (11,14); the degraded
    LAB-004 trace is searched exactly and finds him (before: 1 mismatch, missed)."""
    src = tmp_path / "ref.csv"
    full = _messy()["LAB-001"]
    write([Record("LAB-001", full, 2)], src, format="csv")
    admin = Session(store_fixture, "admin")
    admin.add_user("ana", "analyst")
    admin.import_file(src, category="convicted")
    ana = Session(store_fixture, "ana")
    ana.open_case("C1", purpose="burglary", legal_basis="warrant 1")
    trace = _messy()["LAB-004"]
    result = ana.search("C1", trace, max_mismatches=0, min_loci=9)
    assert [c.specimen for c in result.candidates] == ["LAB-001"]
    assert result.candidates[0].mismatches == 0
    # The store keeps the partial profile as it was given, too.
    src2 = tmp_path / "lab4.csv"
    write([Record("LAB-004", trace, 2)], src2, format="csv")
    admin.import_file(src2, category="convicted")
    hit = ana.search("C1", full, max_mismatches=0, min_loci=9)
    assert sorted(c.specimen for c in hit.candidates) == ["LAB-001", "LAB-004"]


def test_counting__partial_query_matches_every_allele_holding_its_copy() -> None:
    """Independent count: reference men whose every locus compares equal with the query
    under :func:`compare` (the slow reference), against the vectorised count."""
    rng = np.random.default_rng(7)
    refs = [
        Haplotype(
            {
                "DYS19": Allele(AlleleKind.VALUE, (int(rng.choice([140, 150])),)),
                "DYS385": Allele(
                    AlleleKind.VALUE, tuple(sorted(int(v) for v in rng.choice([110, 130, 140], 2)))
                ),
            }
        )
        for _ in range(400)
    ]
    ref = ReferenceSet.from_haplotypes(refs)
    query = parse_haplotype_string("DYS19=14;DYS385=11,-")
    expected = sum(
        1
        for h in refs
        if compare(query, h).mismatches == 0 and compare(query, h)["DYS385"].compared == 1
    )
    got = count_matches(query, ref)
    assert got.count == expected
    assert got.count > 0
    # Before, only rows with a missing second copy "matched": none here.
    full = parse_haplotype_string("DYS19=14;DYS385=11,14")
    assert count_matches(full, ref).count < got.count


def test_donor_ranking__partial_locus_left_out_with_a_note() -> None:
    from patriline.pedigree.columns import build_columns

    trace = parse_haplotype_string("DYS19=14;DYS385=11,-")
    men = {"A": parse_haplotype_string("DYS19=14;DYS385=11,14")}
    cols = build_columns(("A",), men, trace)
    at = [i for i, n in enumerate(cols.names) if n.startswith("DYS385")]
    assert at and all(cols.trace_state[i] == -1 for i in at)  # the trace is not placed there
    assert cols.trace_state[cols.names.index("DYS19")] >= 0
    assert any("DYS385: partly typed for the trace" in n for n in cols.notes)
