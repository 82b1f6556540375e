"""Import throughput: 1,000,000 Yfiler Plus haplotypes into SQLite and PostgreSQL.

Targets (issue 3): >= 100,000 profiles/s into SQLite, >= 50,000/s into PostgreSQL.
Two figures per engine:

* **store** — ``Database.import_records`` on records already read (validation, bulk
  encoding, classification against the store, one transaction with executemany/COPY,
  audit). This is what the issue's target is about.
* **file** — ``Database.import_file`` end to end, including parsing the CSV with
  ``patriline.io.read`` (reported for a smaller file; the parser belongs to io).

Alleles are random but realistic: per locus, a modal value drawn around the middle of
the catalog's observed range, then a two-sided geometric spread (multi-copy loci
sorted). Generating records and files is not timed. PostgreSQL is a throwaway cluster
(fsync off) started here, as in the tests; set PATRILINE_TEST_PG to use a server.

Usage: ``python benchmarks/import.py [N] [N_FILE]`` (defaults 1,000,000 and 100,000).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import peak_rss_gb, read_bandwidth_gbs, report, timed

from patriline.haplotype import Allele, AlleleKind, Haplotype
from patriline.io.model import Record
from patriline.reference import default_catalog
from patriline.store import Database


def make_records(n: int, seed: int = 1) -> list[Record]:
    """``n`` random Yfiler Plus records (alleles shared between records, as parsers intern)."""
    cat = default_catalog()
    kit = cat.kit("yfiler_plus")
    rng = np.random.default_rng(seed)
    cols: dict[str, list[Allele]] = {}
    for name in kit.loci:
        loc = cat.locus(name)
        mid = (loc.allele_min + loc.allele_max) // 2
        draws = (
            mid
            + rng.geometric(0.55, size=(n, loc.copies))
            - rng.geometric(0.55, size=(n, loc.copies))
        )
        draws = np.clip(draws, loc.allele_min, loc.allele_max)
        draws.sort(axis=1)
        pool: dict[tuple[int, ...], Allele] = {}
        col = []
        for row in draws:
            key = tuple(int(v) * 10 for v in row)
            a = pool.get(key)
            if a is None:
                a = pool[key] = Allele(AlleleKind.VALUE, key)
            col.append(a)
        cols[name] = col
    names = list(kit.loci)
    return [
        Record(f"S{i:07d}", Haplotype({nm: cols[nm][i] for nm in names}, kit.id), i + 2, kit.id)
        for i in range(n)
    ]


def write_csv(records: list[Record], path: Path) -> None:
    names = list(records[0].haplotype.alleles)
    with open(path, "w") as fh:
        fh.write("specimen,kit," + ",".join(names) + "\n")
        for r in records:
            a = r.haplotype.alleles
            fh.write(f"{r.specimen},{r.kit}," + ",".join(f'"{a[n]}"' for n in names) + "\n")


def pg_url(tmp: Path) -> tuple[str, list[str]]:
    env = os.environ.get("PATRILINE_TEST_PG")
    if env:
        return env, []
    from plugins.postgres import _start_cluster

    cluster, stop = _start_cluster(tmp)
    return cluster.new_database("bench"), stop


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_file = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    bandwidth = read_bandwidth_gbs(1 << 28)
    records = make_records(n)
    rows = []
    with tempfile.TemporaryDirectory(prefix="plbench") as d:
        tmp = Path(d)
        csv = tmp / "yfp.csv"
        write_csv(records[:n_file], csv)
        import subprocess

        pgtmp = Path(tempfile.mkdtemp(prefix="plpg"))
        url, stop = pg_url(pgtmp)
        try:
            for engine, target, store_url in (
                ("SQLite", 100_000, str(tmp / "b.db")),
                ("PostgreSQL", 50_000, url),
            ):
                db = Database.create(store_url, "bench")
                actor = db.actor("bench")
                cpu0 = time.process_time()
                t, summary = timed(lambda db=db, actor=actor: db.import_records(actor, records))
                cpu = time.process_time() - cpu0
                assert summary.added == n
                rate = n / t
                rows.append(
                    {
                        "what": f"{engine} store import, {n:,} Yfiler Plus records",
                        "value": f"{rate:,.0f} profiles/s ({t:.1f} s wall; this process used {cpu:.1f} s CPU = {n / cpu:,.0f} profiles per CPU-second)",
                        "target": f">= {target:,}/s",
                        "ok": rate >= target,
                    }
                )
                t2, s2 = timed(lambda db=db, actor=actor: db.import_records(actor, records))
                assert s2.unchanged == n
                rows.append(
                    {
                        "what": f"{engine} re-import (all unchanged)",
                        "value": f"{n / t2:,.0f} profiles/s ({t2:.1f} s)",
                    }
                )
                db.close()
                file_url = str(tmp / "f.db") if engine == "SQLite" else pg_url_new(url)
                db = Database.create(file_url, "bench")
                actor = db.actor("bench")
                t3, s3 = timed(lambda db=db, actor=actor: db.import_file(actor, csv))
                assert s3.added == n_file
                rows.append(
                    {
                        "what": f"{engine} file import end to end (io.read + store), {n_file:,} rows",
                        "value": f"{n_file / t3:,.0f} profiles/s ({t3:.1f} s)",
                    }
                )
                db.close()
        finally:
            if stop:
                subprocess.run(stop, capture_output=True)
    rows.append({"what": "peak RSS", "value": f"{peak_rss_gb():.2f} GB"})
    report("import", rows, bandwidth)


def pg_url_new(url: str) -> str:
    """A second database on the same server (for the file import)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(
        u.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    ) as conn:
        conn.execute('CREATE DATABASE "bench_file"')
    return u.set(database="bench_file").render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
