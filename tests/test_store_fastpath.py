"""The columnar import path (read_encoded → prepare_encoded → bulk write) equals the
per-record path (io.read → prepare), row for row, on both engines."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from patriline.casework import Session
from patriline.encoding import Layout, encode
from patriline.errors import InputError
from patriline.haplotype import Haplotype
from patriline.io import read, read_encoded
from patriline.store import Database
from patriline.store import batches as _importer
from patriline.store.batches import file_sha256
from patriline.store.encoded_rows import canonical_texts, prepare_encoded, row_bytes
from patriline.store.record_rows import prepare
from patriline.store.schema import haplotypes, import_batches, meta, persons, removals, specimens
from plugins.postgres import record
from test_store_import import _haplotypes

_twins = itertools.count()

MESSY = """\
specimen,person,kit,Category,Agency,collected_at,retention_until,Legal Basis,DYS19,DYS385,DYS389I,DYS389II,DYS390,DYS391,DYF387S1,DYS448,DYF399S1
S1,P1,yfiler_plus,reference,Met,2020-01-02,2030-01-01,PACE,14,"11,14",13,29,24,10,"35,37",19,
S2,,yfiler_plus,Crime-Scene,,2020-01-02T10:00:00,,,15.2,"11,11",,30,OL,null,36,20,
S3,P1,,arrestee, Kent ,,2031-05-05,,14,"12,13,14",13,29,,,,,"12,13,14,15"
S4,P4,yfiler_plus,bogus,,,,,14,11,13,29,24,10,35,19,
S5,P5,yfiler_plus,reference,,notadate,,,14,11,13,29,24,10,35,19,
S6,P6,nosuchkit,reference,,,,,14,11,13,29,24,10,35,19,
S7,P7,,,,,,,xx,11,13,29,24,10,35,19,
S8,,,,,,,,,,,,,,,,
S1,P9,,,,,,,14,11,13,29,24,10,35,19,
 S9 ,P9,,volunteer,,,,,14,"11,14,15",13,29,24,10,35,19,
S10,P1,yfiler,relative-of-missing-person,,,,,14,"11,14",13,29,24,10,,19,
S11,S11,yfiler,,,,,,14,"11,14",13,29,24,10,,19,
S12,P12,,,,,,,14,,,,,,,,
S13,"P\\13",,,,,,,14,,,,,,,,"12,13"
"S\\14","P 14",,,"Met	HQ",,,,15,,,,,,,,
S15,"P	15",,,,,,,15,,,,,,,,
"""


@pytest.fixture
def twin_stores_fixture(
    store_url_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Database, Database]]:
    """Two fresh stores on the same engine (admin ``admin``)."""
    if "://" in store_url_fixture:
        cluster = request.getfixturevalue("pg_cluster_fixture")
        second = cluster.new_database(f"twin{os.getpid()}_{next(_twins)}")
    else:
        second = str(tmp_path / "twin.db")
    a, b = Database.create(store_url_fixture, "admin"), Database.create(second, "admin")
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def _dump(db: Database) -> dict[str, list[Any]]:
    """Every row the import writes, in a comparable order (times left out)."""
    with db.engine.connect() as conn:
        batch = [c for c in import_batches.c if c.name != "created_at"]
        return {
            "specimens": [
                tuple(r) for r in conn.execute(select(specimens).order_by(specimens.c.id))
            ],
            "persons": [tuple(r) for r in conn.execute(select(persons).order_by(persons.c.id))],
            "haplotypes": [
                tuple(r) for r in conn.execute(select(haplotypes).order_by(haplotypes.c.specimen))
            ],
            "batches": [
                tuple(r) for r in conn.execute(select(*batch).order_by(import_batches.c.id))
            ],
            "removals": [tuple(r)[:2] for r in conn.execute(select(removals))],
            "meta": [
                tuple(r) for r in conn.execute(select(meta).where(meta.c.key == "change_seq"))
            ],
        }


def _seed(db: Database) -> None:
    """What the store holds before the messy file: unchanged, conflicting, expunged."""
    admin = db.actor("admin")
    Session(db, admin).import_records(
        [
            record(
                "S11", "DYS19=14,DYS385=11,14,DYS389I=13,DYS389II=29,DYS390=24,DYS391=10,DYS448=19"
            ),
            record("S12", "DYS19=15"),
            record("S2", "DYS19=15"),
            record("S99", "DYS19=15", person="P9"),
        ],
    )
    Session(db, admin).expunge("S2", reason="acquitted")


def _old_path(db: Database, path: Path, **kw: Any) -> Any:
    """``import_file`` as it was: io.read, then import_records."""
    res = read(path, strict=not kw.get("lenient", False))
    return Session(db, db.actor("admin")).import_records(
        res.records,
        file=str(path),
        file_hash=file_sha256(path),
        format=res.format,
        rows=res.rows,
        problems=res.problems,
        **kw,
    )


def test_import_file__columnar_equals_records_path__lenient(
    twin_stores_fixture: tuple[Database, Database], tmp_path: Path
) -> None:
    old_db, new_db = twin_stores_fixture
    path = tmp_path / "messy.csv"
    path.write_text(MESSY, encoding="utf-8")
    for db in (old_db, new_db):
        _seed(db)
    old = _old_path(old_db, path, lenient=True, rejects=tmp_path / "old.csv")
    new = Session(new_db, new_db.actor("admin")).import_file(
        path, lenient=True, rejects=tmp_path / "new.csv"
    )
    assert new.to_dict() == old.to_dict()
    assert (new.conflicts, new.unchanged) == (2, 1)  # S2 expunged, S12 differs; S11 same
    assert sorted(c.specimen for c in new.conflict_details) == ["S12", "S2"]
    assert new.conflict_details == old.conflict_details
    assert [str(p) for p in new.problems] == [str(p) for p in old.problems]
    assert (tmp_path / "new.csv").read_text() == (tmp_path / "old.csv").read_text()
    assert _dump(new_db) == _dump(old_db)
    # and both equal the slow reference: str(haplotype) and encode() of what io.read read
    stored = {r[0]: r for r in _dump(new_db)["haplotypes"]}
    layout = new_db.layout
    for rec in read(path, strict=False).records:
        if rec.specimen in stored and rec.specimen not in ("S11", "S12"):
            _, canonical, blob, _seq = stored[rec.specimen]
            assert canonical == str(rec.haplotype)
            expected = encode([rec.haplotype], layout).values[:, 0].astype("<i2").tobytes()
            assert bytes(blob) == expected
    assert new_db.haplotype("S\\14") == Haplotype.parse({"DYS19": "15"})
    assert new_db.person_of("S\\14") == "P 14"  # a tab is escaped in COPY: see Agency
    assert new_db.specimen_info("S\\14").agency == "Met\tHQ"
    # a tab in an ID breaks the ID rule (patriline.ids): the row is rejected on both paths
    assert any(p.line == 17 and "person ID" in p.reason for p in new.problems)
    assert new_db.person_of("S13") == "P\\13"
    assert new_db.verify_audit().ok


def test_import_file__columnar_equals_records_path__atomic(
    twin_stores_fixture: tuple[Database, Database], tmp_path: Path
) -> None:
    old_db, new_db = twin_stores_fixture
    bad = tmp_path / "bad.csv"
    # the reader accepts every row; the store refuses the category of the second
    bad.write_text("specimen,category,DYS19\nA1,reference,14\nA2,bogus,15\n", encoding="utf-8")
    with pytest.raises(InputError) as old_err:
        _old_path(old_db, bad)
    with pytest.raises(InputError) as new_err:
        Session(new_db, new_db.actor("admin")).import_file(bad)
    assert str(new_err.value) == str(old_err.value)
    assert "line 3" in str(new_err.value) or ":3" in str(new_err.value)
    assert _dump(new_db) == _dump(old_db)
    assert _dump(new_db)["specimens"] == []


def test_import_file__bulk_foreign_keys_restored(
    store_fixture: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch large enough to re-validate foreign keys in bulk (PostgreSQL) keeps them,
    and a failure after the drop rolls the schema back with the data."""
    db = store_fixture
    monkeypatch.setattr(_importer, "PG_BULK_FK", 1)
    path = tmp_path / "ok.csv"
    path.write_text(
        "specimen,person,DYS19\n" + "".join(f"B{i},Q{i % 3},{10 + i % 5}\n" for i in range(40)),
        encoding="utf-8",
    )
    summary = Session(db, db.actor("admin")).import_file(path)
    assert summary.added == 40
    assert db.person_of("B4") == "Q1"
    with db.engine.connect() as conn:
        if db.dialect == "postgresql":
            names = set(
                conn.execute(
                    text("SELECT conname FROM pg_constraint WHERE contype = 'f'")
                ).scalars()
            )
            assert {fk[1] for fk in _importer._BATCH_FKS} <= names

    def boom(*_a: Any, **_k: Any) -> None:
        raise RuntimeError("crash after the rows were written")

    monkeypatch.setattr("patriline.store.audit.append", boom)
    more = tmp_path / "more.csv"
    more.write_text("specimen,DYS19\n" + "".join(f"C{i},14\n" for i in range(30)), encoding="utf-8")
    with pytest.raises(RuntimeError):
        Session(db, db.actor("admin")).import_file(more)
    assert "C1" not in set(db.active_specimens())
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            names = set(
                conn.execute(
                    text("SELECT conname FROM pg_constraint WHERE contype = 'f'")
                ).scalars()
            )
        assert {fk[1] for fk in _importer._BATCH_FKS} <= names


def test_prepare_encoded__equals_prepare_on_messy_file(tmp_path: Path) -> None:
    path = tmp_path / "messy.csv"
    path.write_text(MESSY, encoding="utf-8")
    layout = Layout.universal()
    slow = prepare(read(path, strict=False).records, layout, file=str(path))
    fast = prepare_encoded(read_encoded(path, layout, strict=False), layout, file=str(path))
    assert fast == slow
    assert fast.problems and fast.rejected_specimens == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(_haplotypes(), min_size=1, max_size=8))
def test_canonical_texts__equals_str_and_encode(haps: list[Haplotype]) -> None:
    """Invariant: the columnar texts and bytes equal ``str(h)`` and ``encode()``'s rows."""
    layout = Layout.universal()
    encoded = encode(haps, layout)
    assert canonical_texts(encoded) == [str(h) for h in haps]
    blobs = row_bytes(encoded)
    for i, blob in enumerate(blobs):
        assert np.array_equal(np.frombuffer(blob, dtype="<i2"), encoded.values[:, i])
