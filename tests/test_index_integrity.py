"""The search index on disk: atomic generations, verification on open, hits re-checked
against the store, private permissions, and a large delta rebuilt without per-row reads
(issue 17, items 1, 4 and 7)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from patriline.casework import Session
from patriline.casework import searching as api
from patriline.casework.searching import index_dir, open_index
from patriline.haplotype import Haplotype, compare, parse_haplotype_string
from patriline.search import _index_files as files
from patriline.search._index_files import IndexCorruptError
from patriline.search.index import SearchIndex
from patriline.store import Database
from plugins.approvals import approve
from plugins.postgres import record
from plugins.search import BASE, profile

pytestmark = pytest.mark.usefixtures("index_dir_fixture")

LOCI = list(BASE)


def unique(i: int) -> str:
    """A profile of its own for specimen ``i < 7000`` (loci moved by the digits of ``i``)."""
    return profile(
        DYS390=str(20 + i % 10),
        DYS439=str(8 + i // 10 % 10),
        DYS635=str(20 + i // 100 % 10),
        DYS458=str(17 + i // 1000),
    )


@pytest.fixture
def crash_store_fixture(store_url_fixture: str) -> Iterator[Database]:
    """40 specimens of their own profile plus a family of near profiles; an analyst,
    a supervisor and an approved case."""
    db = Database.create(store_url_fixture, "admin")
    admin = db.actor("admin")
    Session(db, admin).add_user("ann", "analyst")
    Session(db, admin).add_user("sue", "supervisor")
    recs = [record(f"U{i:03d}", unique(i)) for i in range(40)]
    recs += [
        record(f"F{i}", profile(DYS19=str(14 + i % 2), DYS458=str(17 + i // 2))) for i in range(4)
    ]
    Session(db, db.actor("ann")).import_records(recs)
    Session(db, db.actor("ann")).open_case("C1", purpose="test", legal_basis="test")
    try:
        yield db
    finally:
        api._OPEN.clear()
        files.FAIL_HOOK = None
        db.close()


def scan(db: Database, trace: str, mm: int | None, ms: int | None = None) -> set[str]:
    """The linear scan: every active stored profile compared with ``compare``."""
    t = parse_haplotype_string(trace)
    out = set()
    for s, h in db.haplotypes_of(db.active_specimens()).items():
        c = compare(t, h)
        if (
            c.loci_compared >= 9
            and (mm is None or c.mismatches <= mm)
            and (ms is None or c.steps <= ms)
        ):
            out.add(s)
    return out


def assert_agrees_with_store(db: Database) -> None:
    """A new process's open_index answers an exact and a near search as the linear scan."""
    api._OPEN.clear()
    files._VERIFIED.clear()
    idx = open_index(db)
    active = set(db.active_specimens())
    for trace, mm in [(unique(7), 0), (unique(23), 0), (profile(), 2), (unique(31), 1)]:
        got = {s for s in idx.query(trace, max_mismatches=mm).ids if s in active}
        assert got == scan(db, trace, mm), trace
    exact = Session(db, "ann").search("C1", unique(23))
    assert [c.specimen for c in exact.candidates] == sorted(scan(db, unique(23), 0))
    approve(db, "sue", "C1", profile(), max_mismatches=2)  # each familial search its own
    near = Session(db, "ann").search("C1", profile(), max_mismatches=2)
    assert {c.specimen for c in near.candidates} == scan(db, profile(), 2)


def held_anywhere(root: Path, specimen: str) -> list[str]:
    """Files under ``root`` whose bytes contain ``specimen``."""
    needle = specimen.encode()
    return [str(p) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


class Crash:
    """A save-step hook raising ``exc`` at step ``at`` (once), counting the steps."""

    def __init__(self, at: int | None, exc: type[BaseException] = KeyboardInterrupt) -> None:
        self.at, self.exc = at, exc
        self.steps: list[str] | None = [] if at is None else None
        self.n = 0

    def __call__(self, step: str) -> None:
        if self.steps is not None:
            self.steps.append(step)
        n, self.n = self.n, self.n + 1
        if n == self.at:
            raise self.exc(step)


def _steps(action: Callable[[], Any]) -> list[str]:
    hook = Crash(None)
    files.FAIL_HOOK = hook
    try:
        action()
    finally:
        files.FAIL_HOOK = None
    assert hook.steps
    return hook.steps


def _scenarios(db: Database) -> dict[str, Callable[[int], Any]]:
    """Index updates: a small import saved by a sync, an expungement's purge (rebuild)."""

    def add(i: int) -> Any:
        Session(db, db.actor("ann")).import_records([record(f"N{i:03d}", unique(100 + i))])
        return open_index(db)

    def expunge(i: int) -> Any:
        return Session(db, db.actor("sue")).expunge(f"U{i:03d}", "court order")

    return {"sync-save": add, "expunge-rebuild": expunge}


def test_save__interrupted_at_every_step_leaves_a_correct_index(
    crash_store_fixture: Database,
) -> None:
    """KeyboardInterrupt at each write step of a save; afterwards open_index agrees with
    a scan of the store, and an expunged profile is in no file once the index is reopened."""
    db = crash_store_fixture
    open_index(db)
    root = index_dir(db)
    for name, action in _scenarios(db).items():
        steps = _steps(functools.partial(action, 0))
        assert "pointer-switched" in steps and steps.index("rename") < steps.index(
            "pointer-switched"
        ), steps
        for at in range(len(steps)):
            k = at + 1
            files.FAIL_HOOK = Crash(at)
            with pytest.raises(KeyboardInterrupt):
                action(k)
            files.FAIL_HOOK = None
            assert_agrees_with_store(db)
            if name == "expunge-rebuild":
                assert held_anywhere(root, f"U{k:03d}") == [], (steps[at], k)
        assert sorted(p.name for p in root.iterdir())[0] == "CURRENT"
        assert len([p for p in root.iterdir() if p.name != "CURRENT"]) == 1  # one generation


def _forked_kill(db_url: str, action: str, arg: int, at: int) -> int:
    """Fork; the child opens the store and runs ``action`` with a SIGKILL at save step
    ``at``. Returns the child's wait status."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            os.environ[files.KILL_ENV] = str(at)
            files._steps_taken = 0
            api._OPEN.clear()
            child = Database.open(db_url)
            if action == "add":
                Session(child, child.actor("ann")).import_records(
                    [record(f"N{arg:03d}", unique(100 + arg))]
                )
                open_index(child)
            else:
                Session(child, child.actor("sue")).expunge(f"U{arg:03d}", "court order")
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return status


def test_save__sigkilled_at_every_step_leaves_a_correct_index(
    crash_store_fixture: Database,
) -> None:
    """A process SIGKILLed at each write step (no finally, no cleanup runs)."""
    db = crash_store_fixture
    open_index(db)
    root = index_dir(db)
    actions = _scenarios(db)
    n_steps = {"add": len(_steps(lambda: actions["sync-save"](0))),
               "expunge": len(_steps(lambda: actions["expunge-rebuild"](0)))}  # fmt: skip
    db.engine.dispose()  # no pooled connection shared with the children
    for action in ("add", "expunge"):
        for at in range(n_steps[action]):
            k = at + 1
            status = _forked_kill(db.url, action, k, at)
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, (action, at)
            assert_agrees_with_store(db)
            if action == "expunge":
                assert held_anywhere(root, f"U{k:03d}") == []


def test_save__killed_in_a_new_interpreter_by_the_environment_variable(
    crash_store_fixture: Database,
) -> None:
    """``PATRILINE_TEST_INDEX_KILL_AT`` kills a fresh process mid-save (after the new
    values are written, before the pointer moves); the store's index stays right."""
    db = crash_store_fixture
    open_index(db)
    steps = _steps(lambda: _scenarios(db)["expunge-rebuild"](0))
    at = steps.index("array:values")
    code = (
        "import sys; from patriline.store import Database; "
        "from patriline.casework import Session; "
        "db = Database.open(sys.argv[1]); Session(db, db.actor('sue')).expunge('U001', 'court order')"
    )
    env = {**os.environ, files.KILL_ENV: str(at)}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(api.__file__).parents[2]), *sys.path])
    proc = subprocess.run([sys.executable, "-c", code, db.url], env=env, check=False)
    assert proc.returncode == -signal.SIGKILL
    assert [p.name for p in index_dir(db).iterdir() if p.name.startswith(".tmp-")]  # torn
    assert_agrees_with_store(db)
    assert held_anywhere(index_dir(db), "U001") == []


def _gen(root: Path) -> Path:
    return root / (root / "CURRENT").read_text().strip()


def test_open__mixed_builds_truncated_and_wrong_checksum_are_refused_and_rebuilt(
    crash_store_fixture: Database, tmp_path: Path
) -> None:
    db = crash_store_fixture
    root = index_dir(db)
    open_index(db)
    # another build of the same number of rows, in another order of profiles
    other_ids = [f"U{i:03d}" for i in range(44)]
    haps = [parse_haplotype_string(unique((i * 7) % 44)) for i in range(44)]
    from patriline.encoding import encode

    other = SearchIndex.build(other_ids, encode(haps, db.layout)).save(tmp_path / "other")
    good = {p.name: p.read_bytes() for p in _gen(root).iterdir()}

    def corrupt_values_from_other() -> None:
        shutil.copyfile(_gen(other) / "values.npy", _gen(root) / "values.npy")

    def truncate() -> None:
        p = _gen(root) / "exact_hash.npy"
        p.write_bytes(p.read_bytes()[:-16])

    def wrong_checksum() -> None:
        p = _gen(root) / "manifest.json"
        doc = json.loads(p.read_text())
        doc["arrays"]["ids"]["sha256"] = "0" * 64
        p.write_text(json.dumps(doc))

    def pointer_to_nothing() -> None:
        (root / "CURRENT").write_text("gen-missing\n")

    for corrupt, match in [
        (corrupt_values_from_other, "checksum"),
        (truncate, "bytes"),
        (wrong_checksum, "checksum"),
        (pointer_to_nothing, "missing"),
    ]:
        assert (_gen(other) / "values.npy").stat().st_size == len(good["values.npy"])
        corrupt()
        files._VERIFIED.clear()
        with pytest.raises(IndexCorruptError, match=match):
            SearchIndex.open(root)
        assert_agrees_with_store(db)  # open_index rebuilds from the store
        SearchIndex.open(root, verify="always")  # the rebuilt one is sound


def test_search__hit_disagreeing_with_the_store_is_never_returned(
    crash_store_fixture: Database, tmp_path: Path
) -> None:
    """Values of another build swapped in after this process verified the generation
    (so the open skips the checksums): the hit check against the store catches it."""
    db = crash_store_fixture
    root = index_dir(db)
    open_index(db)
    # another build: the same profiles under names shifted by one (U001 for U000's)
    ids = [f"U{i:03d}" for i in range(1, 41)] + [f"F{i}" for i in range(4)]
    from patriline.encoding import encode

    haps = [parse_haplotype_string(unique(i)) for i in range(44)]
    other = SearchIndex.build(ids, encode(haps, db.layout)).save(tmp_path / "other")
    target = _gen(root) / "ids.npy"
    target.unlink()  # a new file (the old one may be memory-mapped)
    shutil.copyfile(_gen(other) / "ids.npy", target)
    api._OPEN.clear()
    assert SearchIndex.open(root).query(unique(8)).ids == ["U009"]  # names the wrong man
    res = Session(db, "ann").search("C1", unique(8))
    assert [c.specimen for c in res.candidates] == ["U008"]
    approve(db, "sue", "C1", unique(8), max_mismatches=1)
    near = Session(db, "ann").search("C1", unique(8), max_mismatches=1)
    assert {c.specimen for c in near.candidates} == scan(db, unique(8), 1)
    assert_agrees_with_store(db)


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_index_files__private_whatever_the_umask(crash_store_fixture: Database, umask: int) -> None:
    db = crash_store_fixture
    old = os.umask(umask)
    try:
        open_index(db)
        Session(db, db.actor("ann")).import_records([record("N999", unique(999))])
        open_index(db)  # a sync save: hard links and new files
    finally:
        os.umask(old)
    root = index_dir(db)
    assert root.stat().st_mode & 0o777 == 0o700
    for p in root.rglob("*"):
        want = 0o700 if p.is_dir() else 0o600
        assert p.stat().st_mode & 0o777 == want, p


class CountingDatabase(Database):
    """A real store counting the reads the index update makes."""

    calls: dict[str, int]

    def haplotype(self, specimen: str) -> Haplotype:
        self.calls["haplotype"] = self.calls.get("haplotype", 0) + 1
        return super().haplotype(specimen)

    def haplotypes_of(self, specimen_ids: Iterable[str]) -> dict[str, Haplotype]:
        self.calls["haplotypes_of"] = self.calls.get("haplotypes_of", 0) + 1
        return super().haplotypes_of(specimen_ids)

    def encoded_of(self, specimen_ids: Iterable[str], layout: Any = None) -> Any:
        self.calls["encoded_of"] = self.calls.get("encoded_of", 0) + 1
        return super().encoded_of(specimen_ids, layout)

    def encoded(self, layout: Any = None) -> Any:
        self.calls["encoded"] = self.calls.get("encoded", 0) + 1
        return super().encoded(layout)


def test_open_index__large_delta_rebuilds_without_per_row_reads(
    crash_store_fixture: Database,
) -> None:
    db0 = crash_store_fixture
    open_index(db0)
    db = CountingDatabase.open(db0.url)
    assert isinstance(db, CountingDatabase)
    try:
        Session(db, db.actor("ann")).import_records(
            [record(f"B{i:05d}", unique(1000 + i)) for i in range(1200)]
        )
        db.calls = {}
        idx = open_index(db)
        assert db.calls == {"encoded": 1}  # a rebuild decided from the feed alone
        assert idx.delta_values.shape[1] == 0 and idx.n_rows == 44 + 1200
        Session(db, db.actor("ann")).import_records(
            [record(f"C{i}", unique(5000 + i)) for i in range(5)]
        )
        db.calls = {}
        idx = open_index(db)
        assert db.calls == {"encoded_of": 1}  # a small delta: one batched read
        assert idx.delta_values.shape[1] == 5
        assert "C3" in idx.query(unique(5003)).ids
    finally:
        db.close()


def test_generation__unchanged_arrays_are_hard_linked(crash_store_fixture: Database) -> None:
    db = crash_store_fixture
    open_index(db)
    before = os.stat(_gen(index_dir(db)) / "values.npy").st_ino
    Session(db, db.actor("ann")).import_records([record("N1", unique(301))])
    idx = open_index(db)
    assert idx.delta_ids == ["N1"]
    assert os.stat(_gen(index_dir(db)) / "values.npy").st_ino == before
    doc = json.loads((_gen(index_dir(db)) / "manifest.json").read_text())
    assert doc["generation"] == _gen(index_dir(db)).name
    assert doc["arrays"]["values"]["written_in"] != doc["generation"]
    assert doc["arrays"]["delta_values"]["written_in"] == doc["generation"]
    assert np.asarray(idx.values).shape == tuple(doc["arrays"]["values"]["shape"])


class ListFeed:
    """A change feed that is not a store: a list of events and a dict of profiles."""

    def __init__(self, events: list[tuple[int, str, str]], haps: dict[str, str]) -> None:
        self.events, self.haps = events, haps

    def changes_since(self, seq: int) -> list[tuple[int, str, str]]:
        return [e for e in self.events if e[0] > seq]

    def haplotypes_of(self, specimen_ids: Iterable[str]) -> dict[str, Haplotype]:
        return {s: parse_haplotype_string(self.haps[s]) for s in specimen_ids if s in self.haps}


def test_sync__takes_any_change_feed() -> None:
    from patriline.encoding import Layout, encode

    lay = Layout.universal()
    idx = SearchIndex.build(["A"], encode([parse_haplotype_string(unique(1))], lay))
    feed = ListFeed([(1, "B", "add"), (2, "A", "remove")], {"B": unique(2)})
    assert idx.sync(feed) == 2
    assert idx.seq == 2
    assert idx.query(unique(2)).ids == ["B"] and idx.query(unique(1)).ids == []


class DisagreeingDatabase(Database):
    """A real store whose batched profile read disagrees with every row it holds (as if
    the index and the store had drifted apart in a way a rebuild cannot mend)."""

    def haplotypes_of(self, specimen_ids: Iterable[str]) -> dict[str, Haplotype]:
        return {s: parse_haplotype_string(unique(6999)) for s in specimen_ids}


def test_search__fails_closed_when_hits_keep_disagreeing(crash_store_fixture: Database) -> None:
    db = DisagreeingDatabase.open(crash_store_fixture.url)
    try:
        with pytest.raises(IndexCorruptError, match="disagrees with the store"):
            Session(db, "ann").search("C1", unique(8))
    finally:
        db.close()


def test_open_index__old_format_files_are_removed(crash_store_fixture: Database) -> None:
    """Files of a format-1 index (flat ``.npy`` files, maybe holding expunged IDs) go at
    the first open of the new format."""
    db = crash_store_fixture
    root = index_dir(db)
    root.mkdir(parents=True)
    (root / "manifest.json").write_text('{"format": 1}')
    (root / "ids.npy").write_bytes(b"U005 expunged long ago")
    open_index(db)
    assert held_anywhere(root, "expunged long ago") == []
    assert not (root / "manifest.json").exists()
