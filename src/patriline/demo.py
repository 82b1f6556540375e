"""``make demo``: a case end to end on the embedded default (SQLite), with the truth beside it.

1. Simulate a small country (Wright-Fisher with variance in reproductive success, Yfiler
   Plus haplotypes, the last six generations kept as a father-link registry).
2. Put 10 % of living men in a new SQLite store; import the registry's paternal links.
3. Pick a trace donor who is *not* in the database but has a relative in it; drop two
   loci to mimic a degraded trace.
4. An analyst opens a case, a supervisor approves familial search for the trace and its
   bounds, the analyst searches.
5. The hits tied at the top score are expanded through the registry, then the top 3
   hits (one joint ranking over their families); the untested men are ranked as donors.
6. Frequency of the trace in the database, the audit chain verified.

Every step goes through the same CLI a lab would use (``patriline.cli.main``); the
simulated truth is printed beside the answers.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from patriline.cli import main
from patriline.stats.mutation import format_meioses

OUT = Path("demo-output")
console = Console(width=120)


def report_donor(expansion: dict[str, Any], donor_person: str) -> None:
    """One line: the families expanded and where the true donor landed."""
    untested = [m for m in expansion["members"] if not m["typed"] and m.get("posterior")]
    ranks = [m["rank"] for m in untested if m["person"] == donor_person]
    families = ", ".join(f["family"] for f in expansion["families"])
    where = (
        f"the TRUE donor ranks {ranks[0]}"
        if ranks
        else "the TRUE donor is not in these trees (the hits are of other families)"
    )
    console.print(
        f"   families of hits {families}: {len(expansion['members'])} men, "
        f"{len(untested)} untested living candidates; {where}"
    )


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def cli(*args: str, capture: bool = False) -> Any:
    """Run one patriline command (echoed as a person would type it)."""
    console.print(f"[dim]$ patriline {' '.join(args)}[/dim]")
    if not capture:
        rc = main(list(args))
        if rc != 0:
            raise SystemExit(f"demo: `patriline {' '.join(args)}` failed with exit code {rc}")
        return None
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(list(args))
    if rc != 0:
        sys.stdout.write(buf.getvalue())
        raise SystemExit(f"demo: `patriline {' '.join(args)}` failed with exit code {rc}")
    return json.loads(buf.getvalue())


def pick_donor(
    parent: np.ndarray, living: np.ndarray, in_db: set[int], seed: int = 3
) -> tuple[int, int]:
    """A living man outside the database whose brother or first cousin is in it."""
    rng = np.random.default_rng(seed)
    father = {int(i): int(parent[i]) for i in living}
    sons: dict[int, list[int]] = {}
    for s, f in father.items():
        sons.setdefault(f, []).append(s)
    grandsons: dict[int, list[int]] = {}
    for f in sons:
        if f >= 0 and parent[f] >= 0:
            grandsons.setdefault(int(parent[f]), []).extend(sons[f])
    for i in rng.permutation(living):
        i = int(i)
        if i in in_db:
            continue
        brothers = [s for s in sons[father[i]] if s != i and s in in_db]
        if brothers:
            return i, 2
        gf = int(parent[father[i]]) if father[i] >= 0 else -1
        cousins = [s for s in grandsons.get(gf, []) if father[s] != father[i] and s in in_db]
        if cousins:
            return i, 4
    raise SystemExit("demo: no donor with a relative in the database (try another seed)")


def run() -> int:
    from patriline.simulate import database_sample, load_population

    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    db = str(OUT / "lab.db")
    country = OUT / "country"

    step("1. Simulate a country: 20,000 living men, Yfiler Plus, registry of 6 generations")
    cli(
        "simulate", "--males", "20000", "--generations", "40", "--vrs", "0.2",
        "--kit", "yfiler_plus", "--keep-generations", "6", "--seed", "11", "--out", str(country),
    )  # fmt: skip
    pop = load_population(country)
    living = pop.living
    db_ids = database_sample(pop, 0.10, seed=5)
    in_db = {int(i) for i in db_ids}
    db_persons = set(pop.person_ids(np.asarray(sorted(in_db))))

    with (country / "haplotypes.csv").open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = {r["person"]: r for r in reader}
    database_file = OUT / "database.csv"
    with database_file.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for person in sorted(db_persons):
            writer.writerow(rows[person])

    step("2. Create the store; users; import 10 % of living men and the link registry")
    cli("init", db, "--user", "admin")
    cli("user", "add", "alice", "--role", "analyst", "--db", db, "--user", "admin")
    cli("user", "add", "bob", "--role", "supervisor", "--db", db, "--user", "admin")
    cli("import", str(database_file), "--db", db, "--user", "alice")
    cli("links", "import", str(country / "links.csv"), "--db", db, "--user", "alice")
    cli("info", "--db", db, "--user", "alice")

    step("3. A degraded trace from a man who is not in the database")
    donor, relation = pick_donor(pop.parent, living, in_db)
    donor_person = pop.person_id(donor)
    loci = [f for f in fields if f not in {"specimen", "person", "kit", "category"}]
    dropped = {"DYS449", "DYS518"}
    trace = ",".join(f"{k}={rows[donor_person][k]}" for k in loci if k not in dropped)
    console.print(
        f"true donor: [bold]{donor_person}[/bold] (closest database relative "
        f"{'a brother' if relation == 2 else 'a first cousin'}); dropped loci: {sorted(dropped)}"
    )

    step("4. Case, approval by a second person, familial search")
    cli("case", "open", "CASE-2026-001", "--purpose", "homicide investigation, unknown trace",
        "--legal-basis", "court order 4711/2026", "--db", db, "--user", "alice")  # fmt: skip
    # The approval names the trace (kept as its SHA-256) and the bounds; it expires and is
    # used up (search_policy.toml): here by the search and the --top-hits expansion.
    cli("case", "approve", "CASE-2026-001", "--familial", "--haplotype", trace,
        "--max-mismatches", "3", "--db", db, "--user", "bob")  # fmt: skip
    result = cli(
        "search", "--db", db, "--user", "alice", "--case", "CASE-2026-001",
        "--haplotype", trace, "--max-mismatches", "3", "--top", "10", "--json", capture=True,
    )  # fmt: skip
    table = Table(title="Ranked lineage candidates, with the simulated truth")
    for col in ("rank", "specimen", "compared", "mismatches", "steps", "meioses mode",
                "90% interval", "score", "TRUE meioses to donor"):  # fmt: skip
        table.add_column(col)
    candidates = result["candidates"]
    for rank, c in enumerate(candidates, 1):
        person = "M" + c["specimen"][1:]
        truth = pop.meioses(donor_person, person)
        table.add_row(
            str(rank), c["specimen"], str(c["loci_compared"]), str(c["mismatches"]),
            str(c["steps"]), format_meioses(c["meioses_mode"], c["meioses_bound"]),
            f"{c['meioses_90'][0]}-{format_meioses(c['meioses_90'][1], c['meioses_bound'])}",
            f"{c['score']:.2f}", "unrelated" if truth is None else str(truth),
        )  # fmt: skip
    console.print(table)
    if not candidates:
        console.print("no candidate within 3 mismatches")
        return 0

    step("5. Expand the hits through the registry; rank the untested men as donors")
    prior = OUT / "prior-living.csv"
    with prior.open("w", encoding="utf-8") as fh:
        fh.write("person,weight\n")
        fh.writelines(f"{p},1\n" for p in pop.person_ids(living))
    console.print(
        f"prior: uniform over the {len(living):,} living men (from the civil registry; "
        f"written to {prior}); the dead cannot have left the trace"
    )
    console.print("5a. Every hit tied at the top score, expanded together (--top-hits):")
    tied = cli(
        "expand", "--db", db, "--user", "alice", "--case", "CASE-2026-001", "--top-hits",
        "--max-mismatches", "3", "--haplotype", trace, "--generations", "5",
        "--prior", str(prior), "--json", capture=True,
    )  # fmt: skip
    report_donor(tied, donor_person)
    top3 = [c["specimen"] for c in candidates[:3]]
    console.print(f"5b. Widened to the top 3 hits {top3}, one joint ranking over their families:")
    svg = OUT / "tree.svg"
    args = [a for s in top3 for a in ("--specimen", s)]
    joint = cli(
        "expand", "--db", db, "--user", "alice", "--case", "CASE-2026-001", *args,
        "--haplotype", trace, "--generations", "5", "--prior", str(prior), "--svg", str(svg),
        "--json", capture=True,
    )  # fmt: skip
    untested = sorted(
        (m for m in joint["members"] if not m["typed"] and m.get("rank")),
        key=lambda m: (m["rank"], m["person"]),
    )
    table = Table(title=f"Untested men, ranked (tree drawn to {svg})")
    for col in ("rank", "family", "person", "meioses from hit", "P(match)", "P(donor)",
                "TRUE donor?"):  # fmt: skip
        table.add_column(col)
    for m in untested[:10]:
        table.add_row(
            str(m["rank"]), m["family"], m["person"], str(m["meioses_from_hit"]),
            f"{m['p_match']:.3f}", f"{m['posterior']:.3f}",
            "[bold green]yes[/bold green]" if m["person"] == donor_person else "",
        )  # fmt: skip
    console.print(table)
    report_donor(joint, donor_person)

    step("6. How common is the trace? (the store as reference: a search, in the case, audited)")
    cli("frequency", "--reference", db, "--user", "alice", "--case", "CASE-2026-001",
        "--haplotype", trace, "--population", str(country))  # fmt: skip
    step("7. Oversight: the audit chain, anchored outside the store")
    anchors = OUT / "audit-anchors.jsonl"
    anchors.unlink(missing_ok=True)
    cli("audit", "anchor", "--db", db, "--out", str(anchors))
    cli("audit", "verify", "--db", db, "--anchor", str(anchors))
    cli("audit", "show", "--case", "CASE-2026-001", "--db", db, "--user", "admin")
    console.print(f"\n[bold]Demo finished.[/bold] Files in {OUT}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
