"""Import: atomic, idempotent, conflicts reported, lenient rejects, bulk encoding = encode()."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from patriline.casework import Session
from patriline.encoding import Layout, encode
from patriline.errors import ConflictError, InputError
from patriline.haplotype import Allele, AlleleKind, Haplotype
from patriline.reference import default_catalog
from patriline.store import Database
from patriline.store.record_rows import RowEncoder
from plugins.postgres import record, records


def test_import_records__adds_then_idempotent(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    first = Session(db, admin).import_records(records(30))
    assert first.to_dict() == {
        "rows": 30,
        "added": 30,
        "unchanged": 0,
        "conflicts": 0,
        "rejected": 0,
    }
    again = Session(db, admin).import_records(records(30))
    assert again.to_dict() == {
        "rows": 30,
        "added": 0,
        "unchanged": 30,
        "conflicts": 0,
        "rejected": 0,
    }
    assert len(db.active_specimens()) == 30
    assert db.change_seq() == 30
    assert db.info().batches == 2


def test_import_records__conflict_is_reported_not_overwritten(store_fixture: Database) -> None:
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records([record("A", "DYS19=14,DYS390=24")])
    s = Session(db, admin).import_records(
        [record("A", "DYS19=15,DYS390=24", line=7), record("B", "DYS19=13")],
        allow_conflicts=True,
    )
    assert (s.added, s.conflicts, s.unchanged) == (1, 1, 0)
    c = s.conflict_details[0]
    assert (c.specimen, c.line) == ("A", 7)
    assert c.stored == "DYS19=14;DYS390=24" and c.incoming == "DYS19=15;DYS390=24"
    assert str(db.haplotype("A")) == "DYS19=14;DYS390=24"


def test_import_records__duplicate_in_file(store_fixture: Database) -> None:
    db = store_fixture
    recs = [record("A", "DYS19=14"), record("A", "DYS19=14", 3), record("A", "DYS19=16", 4)]
    s = Session(db, db.actor("admin")).import_records(recs, allow_conflicts=True)
    assert (s.rows, s.added, s.unchanged, s.conflicts) == (3, 1, 1, 1)


def test_import_records__atomic_conflict_writes_nothing(store_fixture: Database) -> None:
    """ConflictError (issue 14.5): a same-ID, different-profile row (a likely sample
    mix-up) makes an atomic import write nothing; the message shows both values."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).import_records([record("A", "DYS19=14,DYS390=24")])
    seq = db.change_seq()
    with pytest.raises(ConflictError) as err:
        Session(db, admin).import_records(
            [record("A", "DYS19=15,DYS390=24", line=7), record("B", "DYS19=13")]
        )
    msg = str(err.value)
    assert "line 7, specimen A" in msg and "--allow-conflicts" in msg
    assert "stored DYS19=14;DYS390=24" in msg and "incoming DYS19=15;DYS390=24" in msg
    assert err.value.exit_code == 5
    assert db.active_specimens() == ["A"]
    assert db.change_seq() == seq and db.info().batches == 1
    refused = Session(db, admin).audit_entries()[-1]
    assert refused.action == "import" and refused.result["added"] == 0
    assert "specimen A" in refused.result["error"]
    assert db.verify_audit().ok
    # inside the file too; lenient keeps today's behaviour
    recs = [record("C", "DYS19=14"), record("C", "DYS19=16", 4)]
    with pytest.raises(ConflictError, match="first at line"):
        Session(db, admin).import_records(recs)
    s = Session(db, admin).import_records(recs, lenient=True)
    assert (s.added, s.conflicts) == (1, 1)


def test_import_records__atomic_rejects_everything_on_bad_row(store_fixture: Database) -> None:
    db = store_fixture
    recs = [*records(5), record("X", "DYS19=14", line=9, category="alien")]
    with pytest.raises(
        InputError, match=r"<records>:9, specimen X, column 'category', value 'alien'"
    ):
        Session(db, db.actor("admin")).import_records(recs)
    assert db.active_specimens() == []
    assert db.verify_audit().ok
    refused = Session(db, db.actor("admin")).audit_entries()[-1]
    assert refused.action == "import" and refused.result["added"] == 0
    assert "'alien'" in refused.result["error"]


def test_import_records__lenient_writes_rejects(store_fixture: Database, tmp_path: Path) -> None:
    db = store_fixture
    rej = tmp_path / "rejects.csv"
    recs = [
        *records(3),
        record("X", "DYS19=14", line=9, retention_until="31/12/2030"),
        record("Y", "DYS19=14", line=10, category="alien"),
    ]
    Session(db, db.actor("admin")).import_records([record("S0", "DYS19=9")])
    s = Session(db, db.actor("admin")).import_records(recs, lenient=True, rejects=rej)
    assert s.to_dict() == {"rows": 5, "added": 2, "unchanged": 0, "conflicts": 1, "rejected": 2}
    with rej.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["line"], r["specimen"], r["column"], r["value"]) for r in rows[:2]] == [
        ("9", "X", "retention_until", "31/12/2030"),
        ("10", "Y", "category", "alien"),
    ]
    assert rows[2]["specimen"] == "S0" and rows[2]["reason"].startswith("conflict")


def test_import_records__metadata_and_person(store_fixture: Database) -> None:
    db = store_fixture
    rec = record(
        "A1",
        "DYS19=14",
        person="P1",
        kit="yfiler",
        category="Crime scene",
        agency="NPS",
        retention_until="2031-01-02",
        collected_at="2024-05-06",
    )
    Session(db, db.actor("admin")).import_records([rec, record("A2", "DYS19=15", person="P1")])
    info = db.specimen_info("A1")
    assert (info.person, info.category, info.kit, info.agency) == (
        "P1",
        "crime_scene",
        "yfiler",
        "NPS",
    )
    assert (info.retention_until, info.collected_at) == ("2031-01-02", "2024-05-06T00:00:00")
    assert db.specimens_of("P1") == ["A1", "A2"]
    assert db.person_of("A2") == "P1"
    assert db.haplotype("A1").kit == "yfiler"


def test_import_file__csv_through_io_reader(store_fixture: Database, tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(
        'specimen,person,category,DYS19,DYS390,DYS385\nA,P,arrestee,14,24,"11,14"\nB,,volunteer,15,23,12\n'
    )
    db = store_fixture
    s = Session(db, db.actor("admin")).import_file(path)
    assert s.to_dict() == {"rows": 2, "added": 2, "unchanged": 0, "conflicts": 0, "rejected": 0}
    assert db.person_of("A") == "P" and db.person_of("B") == "B"
    assert str(db.haplotype("B")) == "DYS19=15;DYS390=23;DYS385=12,12"
    batches = Session(db, db.actor("admin")).audit_entries()
    entry = next(e for e in batches if e.action == "import")
    assert entry.params["file_hash"] and len(entry.params["file_hash"]) == 64


def test_encoded__equals_encode_of_stored_haplotypes(store_fixture: Database) -> None:
    """Independent computation: the store's bulk path against ``encoding.encode``."""
    db = store_fixture
    recs = [*records(12), record("D", "DYS19=14,15,DYS458=15.2,DYS392=null,DYS390=OL")]
    Session(db, db.actor("admin")).import_records(recs)
    ids, enc = db.encoded()
    expected = encode([db.haplotype(i) for i in ids], Layout.universal())
    assert np.array_equal(enc.values, expected.values)
    assert enc.extras == expected.extras
    ids_k, enc_k = db.encoded(Layout.for_kit("minimal"))
    assert ids_k == ids
    assert np.array_equal(
        enc_k.values,
        encode(
            [db.haplotype(i).restricted(Layout.for_kit("minimal").loci) for i in ids],
            Layout.for_kit("minimal"),
        ).values,
    )


def _haplotypes() -> st.SearchStrategy[Haplotype]:
    cat = default_catalog()
    names = list(cat.all_loci)

    def allele(name: str) -> st.SearchStrategy[Allele]:
        loc = cat.locus(name)
        vals = st.integers(loc.allele_min * 10, loc.allele_max * 10)
        return st.one_of(
            st.just(Allele(AlleleKind.NULL)),
            st.just(Allele(AlleleKind.OFF_LADDER)),
            st.lists(vals, min_size=1, max_size=loc.copies + 1).map(
                lambda v: Allele(AlleleKind.VALUE, tuple(sorted(v)))
            ),
        )

    return (
        st.lists(st.sampled_from(names), unique=True, max_size=12)
        .flatmap(lambda ns: st.fixed_dictionaries({n: allele(n) for n in ns}))
        .map(Haplotype)
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(_haplotypes(), min_size=1, max_size=5))
def test_row_encoder__equals_encode(haps: list[Haplotype]) -> None:
    """Invariant: the cached row encoder gives ``encode()``'s bytes and ``str(h)``."""
    layout = Layout.universal()
    enc = RowEncoder(layout)
    expected = encode(haps, layout)
    for i, h in enumerate(haps):
        blob, text = enc.row(h)
        assert np.array_equal(np.frombuffer(blob, dtype="<i2"), expected.values[:, i])
        assert text == str(h)


def test_import_file__population_table_is_refused(store_fixture: Database, tmp_path: Path) -> None:
    """InputError (issue 14.6): a table with a count column holds haplotypes of a
    population sample, not specimens; it is refused, lenient or not, and nothing written."""
    db = store_fixture
    yhrd = tmp_path / "pop.txt"
    yhrd.write_text("Haplotype\tDYS19\tDYS390\tcount\nH1\t14\t24\t12\nH2\t15\t23\t3\n")
    wide = tmp_path / "pop.csv"
    wide.write_text("specimen,DYS19,DYS390,frequency\nA,14,24,0.02\n")
    for path in (yhrd, wide):
        for lenient in (False, True):
            with pytest.raises(InputError, match=r"population table.*count column"):
                Session(db, db.actor("admin")).import_file(path, lenient=lenient)
    assert db.active_specimens() == []


def test_import_file__empty_profiles_are_refused(store_fixture: Database, tmp_path: Path) -> None:
    """InputError (issue 14.6): a row with no locus typed (no locus columns, or a
    GeneMapper file read as --format csv) is a problem, not an empty profile."""
    db = store_fixture
    path = tmp_path / "noloci.csv"
    path.write_text("specimen,category\nA,arrestee\nB,volunteer\n")
    with pytest.raises(
        InputError, match=r"noloci.csv:2, specimen A: no locus typed.*no locus column"
    ):
        Session(db, db.actor("admin")).import_file(path)
    gm = Path(__file__).parent / "data" / "io" / "genemapper_problems.txt"
    with pytest.raises(InputError, match="no locus"):
        Session(db, db.actor("admin")).import_file(gm, format="csv", lenient=True)
    some = tmp_path / "some.csv"
    some.write_text("specimen,category,DYS19,DYS390\nA,arrestee,14,24\nB,arrestee,,\n")
    with pytest.raises(InputError, match=r"some.csv:3, specimen B: no locus typed"):
        Session(db, db.actor("admin")).import_file(some)
    s = Session(db, db.actor("admin")).import_file(some, lenient=True, rejects=tmp_path / "r.csv")
    assert (s.added, s.rejected) == (1, 1)
    assert db.active_specimens() == ["A"]
    assert db.specimen_info("A").category == "arrestee"


def test_import_records__default_category_is_unspecified(store_fixture: Database) -> None:
    """The default category (issue 14.6) is ``unspecified``, not ``reference``, which
    reads like a reference population."""
    db = store_fixture
    Session(db, db.actor("admin")).import_records([record("A", "DYS19=14")])
    assert db.specimen_info("A").category == "unspecified"
