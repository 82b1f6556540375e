"""Targeted link checks (``links_to_check``, ``read_links(recorded=...)``,
``insert_links``) against the slow, obviously correct path they replace: every link of
the registry loaded into one :class:`Pedigree` (``read_links(existing=db.links())``).
Every store test runs on SQLite and PostgreSQL (``store_fixture``)."""

from __future__ import annotations

import random
from collections import Counter
from functools import partial
from pathlib import Path

import pytest

from patriline.casework import Session
from patriline.cli import main
from patriline.errors import ConflictError, InputError
from patriline.pedigree.links_io import LinkReadResult, read_links
from patriline.pedigree.model import Link as PedLink
from patriline.pedigree.model import LinkConflict, Pedigree
from patriline.store.database import Database
from patriline.store.links import links_to_check
from patriline.store.records import Link


def _forest(rng: random.Random, trees: int = 6) -> list[Link]:
    """Random paternal trees of 5–40 men (chains, bushes and mixtures)."""
    links: list[Link] = []
    for t in range(trees):
        n = rng.randint(5, 40)
        spread = rng.choice([1, 3, 1000])
        for i in range(1, n):
            links.append(Link(f"T{t}P{i}", f"T{t}P{rng.randint(max(0, i - spread), i - 1)}"))
    return links


def _new_links(rng: random.Random, stored: list[Link], n: int, tag: str) -> list[tuple[str, str]]:
    """``n`` random new links of every kind: valid (new sons, new fathers of roots,
    links between recorded men), repeats of recorded links, self-links, second fathers
    (recorded or in the file), cycles through recorded links and within the file."""
    men = sorted({p for x in stored for p in (x.son, x.father)})
    sons = sorted({x.son for x in stored})
    roots = sorted(set(men) - set(sons))
    father = {x.son: x.father for x in stored}
    out: list[tuple[str, str]] = []
    fresh = iter(f"N{tag}_{i}" for i in range(10 * n + 10))
    while len(out) < n:
        kind = rng.randrange(9)
        if kind == 0:  # a new son of a recorded man
            out.append((next(fresh), rng.choice(men)))
        elif kind == 1:  # a new father above a recorded root
            out.append((rng.choice(roots), next(fresh)))
        elif kind == 2:  # any two recorded men: valid, second father or cycle
            out.append((rng.choice(men), rng.choice(men)))
        elif kind == 3:  # a recorded link again (unchanged)
            s = rng.choice(sons)
            out.append((s, father[s]))
        elif kind == 4:
            x = rng.choice(men)
            out.append((x, x))
        elif kind == 5:  # a root under one of his descendants: a cycle of recorded links
            s = rng.choice(sons)
            top = s
            while top in father:
                top = father[top]
            out.append((top, s))
        elif kind == 6:  # a chain of new men, closed into a cycle within the file
            a, b, c = next(fresh), next(fresh), next(fresh)
            out += [(a, b), (b, c)] + ([(c, a)] if rng.random() < 0.5 else [])
        elif kind == 7 and out:  # an earlier son of the file given another father
            out.append((rng.choice(out)[0], rng.choice(men)))
        elif kind == 8:  # new link above a new father: cycle through file and store
            s = rng.choice(sons)
            top = s
            while top in father:
                top = father[top]
            m = next(fresh)
            out += [(m, s), (top, m)]
    return out[:n]


def _write(tmp_path: Path, name: str, pairs: list[tuple[str, str]]) -> Path:
    path = tmp_path / name
    path.write_text("son,father\n" + "".join(f"{s},{f}\n" for s, f in pairs))
    return path


def _outcome(path: Path, **kw: object) -> LinkReadResult | str:
    try:
        return read_links(path, **kw)  # type: ignore[arg-type]
    except InputError as exc:
        return f"{type(exc).__name__}: {exc}"


def test_read_links__recorded_equals_whole_registry_on_random_forests(
    store_fixture: Database, tmp_path: Path
) -> None:
    """Random forests (seeded) and 40 random files of 1–30 new links of every kind: the
    targeted check (``recorded=links_to_check``) accepts, rejects and words exactly as
    the whole registry's pedigree (``existing=db.links()``), lenient and strict, with
    and without ``hide_existing``; every kind of breach occurs."""
    db = store_fixture
    rng = random.Random(20261201)
    stored = _forest(rng)
    Session(db, db.actor("admin")).insert_links(stored, source="test")
    kinds: Counter[str] = Counter()
    for k in range(40):
        path = _write(tmp_path, f"f{k}.csv", _new_links(rng, stored, rng.randint(1, 30), str(k)))
        for hide in (False, True):
            for strict in (False, True):
                want = _outcome(path, strict=strict, existing=db.links(), hide_existing=hide)
                got = _outcome(
                    path,
                    strict=strict,
                    recorded=partial(links_to_check, db),
                    hide_existing=hide,
                )
                assert got == want, (k, hide, strict)
                if isinstance(want, LinkReadResult) and hide:
                    kinds.update(_kind(p.reason) for p in want.problems)
    assert set(kinds) == set(_KINDS.values()), kinds


_KINDS = {
    "own father": "self",
    "another father in the links recorded": "second father, recorded",
    "already has the father": "second father, in the file",
    "through the links recorded": "cycle, recorded",
    "closes a cycle of fathers: ": "cycle, in the file",
}


def _kind(reason: str) -> str:
    return next(v for k, v in _KINDS.items() if k in reason)


def test_links_to_check__only_the_sons_links_and_the_fathers_chains(
    store_fixture: Database,
) -> None:
    """``links_to_check`` returns exactly the recorded links of the sons and those on
    the chains of fathers above the fathers (computed on the whole pedigree), so its
    size follows the file, not the registry."""
    db = store_fixture
    rng = random.Random(7)
    stored = _forest(rng, trees=8)
    Session(db, db.actor("admin")).insert_links(stored, source="test")
    full = Pedigree(db.links())
    men = sorted(full)
    for _ in range(20):
        sons = [*rng.sample(men, rng.randint(0, 6)), "NOBODY"]
        fathers = [*rng.sample(men, rng.randint(0, 6)), "NOBODY2"]
        want = {s for s in sons if full.father(s) is not None}
        for f in fathers:
            want |= {x for x in [f, *full.ancestors(f)] if full.father(x) is not None}
        got = links_to_check(db, sons, fathers)
        assert [x.son for x in got] == sorted(want)
        assert all(x.father == full.father(x.son) for x in got)


def _state(db: Database) -> tuple[object, ...]:
    """Links, persons and the audit chain's head: what a refused insert must not change."""
    head = db.audit_anchor()
    return db.links(), db.persons(), head.entries, head.hash


def _reference_verdict(stored: list[Link], new: list[Link]) -> list[tuple[str, PedLink]]:
    """The breaches of ``new`` checked one by one against the whole pedigree."""
    ped = Pedigree(stored)
    out = []
    for x in new:
        link = PedLink(x.son, x.father)
        try:
            ped.add(link)
        except LinkConflict as exc:
            out.append((exc.kind, link))
    return out


def test_insert_links__refuses_what_the_whole_pedigree_refuses_atomically(
    store_fixture: Database,
) -> None:
    """Random small batches (1–4 links of every kind) on a random forest: ``insert_links``
    accepts a batch iff checking its links one by one on the whole registry's pedigree
    finds no breach; a refused batch writes nothing (links, persons, audit head); a
    cycle names the first link that closes it, and its chain only when every step is
    a link of the batch."""
    db = store_fixture
    admin = db.actor("admin")
    rng = random.Random(99)
    Session(db, admin).insert_links(_forest(rng), source="test")
    outcomes: Counter[str] = Counter()
    for k in range(60):
        stored = db.links()
        new = [Link(s, f) for s, f in _new_links(rng, stored, rng.randint(1, 4), f"b{k}")]
        breaches = _reference_verdict(stored, new)
        before = _state(db)
        try:
            Session(db, admin).insert_links(new, source=f"batch{k}")
        except (InputError, ConflictError) as exc:
            assert breaches, (k, new, str(exc))
            assert _state(db) == before
            fathers = {x.son: x.father for x in stored}
            two = any(fathers.setdefault(x.son, x.father) != x.father for x in new)
            if not two and all(x.son != x.father for x in new):  # cycles only
                first = breaches[0][1]
                assert f"link {first.son!r} → {first.father!r}" in str(exc)
                outcomes["cycle"] += 1
                if "through links already in the store" in str(exc):
                    outcomes["cycle hidden"] += 1
                    assert " -> " not in str(exc)  # no chain named
                else:
                    assert all(f"{x.son} -> " in str(exc) or x.son not in str(exc) for x in new)
            else:
                outcomes["other"] += 1
        else:
            assert not breaches, (k, new)
            want = {(x.son, x.father) for x in stored} | {(x.son, x.father) for x in new}
            assert {(x.son, x.father) for x in db.links()} == want
            Pedigree(db.links())  # still a forest
            outcomes["accepted"] += 1
    assert min(outcomes[k] for k in ("accepted", "cycle", "cycle hidden", "other")) > 0, outcomes


def test_insert_links__cycle_through_several_recorded_links(store_fixture: Database) -> None:
    """A chain A0 <- A1 <- ... <- A5 recorded; giving A0 the father A5 closes a cycle of
    six links, five of them recorded: refused without naming A1..A4, nothing written.
    The same cycle made of the batch's own links is named in full (hand-checked)."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).insert_links(
        [Link(f"A{i}", f"A{i - 1}") for i in range(1, 6)], source="chain"
    )
    before = _state(db)
    with pytest.raises(ConflictError) as info:
        Session(db, admin).insert_links([Link("X", "A2"), Link("A0", "A5")], source="probe")
    msg = str(info.value)
    assert "'A0' → 'A5'" in msg and "through links already in the store" in msg
    assert not any(f"A{i}" in msg for i in range(1, 5))
    assert _state(db) == before
    ring = [Link("B0", "B2"), Link("B1", "B0"), Link("B2", "B1")]
    with pytest.raises(ConflictError, match=r"'B2' → 'B1' closes a cycle .*B2 -> B1 -> B0 -> B2"):
        Session(db, admin).insert_links(ring, source="ring")
    # Through a new link above a recorded root and back down the recorded chain.
    with pytest.raises(ConflictError, match="through links already in the store"):
        Session(db, admin).insert_links([Link("A0", "M"), Link("M", "A3")], source="probe2")
    assert db.links() == before[0]


def test_links_import__cycle_through_recorded_chain_hidden(
    store_fixture: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``links import`` of a link closing a cycle through four recorded links: refused
    (exit 2, file and line named) without naming the recorded chain; nothing written;
    a cycle within the file is named in full."""
    db = store_fixture
    admin = db.actor("admin")
    Session(db, admin).insert_links(
        [Link(f"A{i}", f"A{i - 1}") for i in range(1, 5)], source="chain"
    )
    probe = _write(tmp_path, "probe.csv", [("N1", "A0"), ("A0", "A4")])
    code = main(["links", "import", str(probe), "--db", db.url, "--user", "admin"])
    err = capsys.readouterr().err
    assert code == 2 and "probe.csv:3" in err and "through the links recorded" in err
    assert not any(f"A{i}" in err for i in range(1, 4))
    assert {x.son for x in db.links()} == {"A1", "A2", "A3", "A4"}
    ring = _write(tmp_path, "ring.csv", [("C0", "C1"), ("C1", "A2"), ("C1x", "C0"), ("A2x", "C0")])
    ring.write_text(ring.read_text() + "C1,C0\n")
    code = main(["links", "import", str(ring), "--db", db.url, "--user", "admin", "--lenient"])
    out, err = capsys.readouterr()
    assert code == 0 and "4 links added" in out and "1 rejected" in out
    assert "ring.csv:6" in err and "C1 already has the father A2" in err  # within the file


def test_read_links__recorded_keeps_strict_order_of_late_parser_errors(
    store_fixture: Database, tmp_path: Path
) -> None:
    """The targeted path parses the whole file before checking it; a parser error met at
    the end (TGF without '#') still comes after the row problems before it, as row by
    row."""
    db = store_fixture
    path = tmp_path / "bad.tgf"
    path.write_text("A\nA\nB\n")
    want = _outcome(path, existing=db.links())
    got = _outcome(path, recorded=partial(links_to_check, db))
    assert got == want and isinstance(got, str) and "declared twice" in got
    path.write_text("A\nB\n")
    assert _outcome(path, recorded=partial(links_to_check, db)) == _outcome(path)
    with pytest.raises(InputError, match="not both"):
        read_links(path, existing=[("A", "B")], recorded=partial(links_to_check, db))


def test_link__one_type_for_readers_pedigree_and_store(store_fixture: Database) -> None:
    import patriline.links
    import patriline.pedigree
    import patriline.store

    assert patriline.store.Link is patriline.pedigree.Link is patriline.links.Link
    db = store_fixture
    # a link as a reader gives it (no source, no confidence, a line) goes into the store as is
    read = PedLink("S1", "F1", None, None, 7)
    Session(db, db.actor("admin")).insert_links([read], source="f.csv")
    assert db.links() == [Link("S1", "F1", "f.csv", 1.0)]
