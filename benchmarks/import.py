"""Import throughput: 1,000,000 Yfiler Plus haplotypes into SQLite and PostgreSQL.

Targets (issue 3): >= 100,000 profiles/s into SQLite, >= 50,000/s into PostgreSQL.
Figures per engine:

* **store** — ``Session.import_encoded`` on a file already read with
  ``patriline.io.read_encoded`` (validation, canonical texts and encoded rows,
  classification against the store, one transaction with executemany/COPY, audit).
  This is what the issue's target is about; the read is timed on its own (io).
* **re-import** — the same batch again (all unchanged).
* **file** — ``Session.import_file`` end to end on the same 1,000,000-row CSV (read +
  store, one call), also against the target.
* **records** — ``Session.import_records`` (per-row ``Record`` objects, the path for
  records already built in Python) on a smaller batch, for comparison.

Alleles are random but realistic: per locus, a modal value drawn around the middle of
the catalog's observed range, then a two-sided geometric spread (multi-copy loci
sorted). Generating the data and writing the file are not timed. PostgreSQL is a
throwaway cluster (fsync off) started here, as in the tests; set PATRILINE_TEST_PG to
use a server.

Usage: ``python benchmarks/import.py [N] [N_RECORDS]`` (defaults 1,000,000 and 100,000).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import peak_rss_gb, read_bandwidth_gbs, report, timed

from patriline.casework import Session
from patriline.encoding import DTYPE, Encoded, Layout, decode
from patriline.haplotype import Allele, Haplotype
from patriline.io import read_encoded, write_encoded
from patriline.io.model import Record
from patriline.reference import default_catalog
from patriline.store import Database


def make_encoded(n: int, seed: int = 1) -> tuple[list[str], Encoded]:
    """``n`` random Yfiler Plus haplotypes, encoded under the kit's layout."""
    cat = default_catalog()
    layout = Layout.for_kit("yfiler_plus")
    rng = np.random.default_rng(seed)
    values = np.empty((layout.n_columns, n), dtype=DTYPE)
    for name in layout.loci:
        loc = cat.locus(name)
        sl = layout.slice_of(name)
        mid = (loc.allele_min + loc.allele_max) // 2
        copies = sl.stop - sl.start
        draws = mid + rng.geometric(0.55, size=(n, copies)) - rng.geometric(0.55, size=(n, copies))
        draws = np.clip(draws, loc.allele_min, loc.allele_max)
        draws.sort(axis=1)
        values[sl] = (draws * 10).T
    return [f"S{i:07d}" for i in range(n)], Encoded(layout, values, {})


def make_records(ids: list[str], encoded: Encoded, n: int) -> list[Record]:
    """The first ``n`` rows as records (alleles shared between records, as parsers intern)."""
    pool: dict[Allele, Allele] = {}
    out = []
    for i, h in enumerate(decode(encoded, rows=range(n))):
        alleles = {k: pool.setdefault(a, a) for k, a in h.alleles.items()}
        out.append(Record(ids[i], Haplotype(alleles, "yfiler_plus"), i + 2, "yfiler_plus"))
    return out


def measure(
    rows: list[dict[str, Any]], what: str, n: int, fn: Callable[[], Any], target: int | None
) -> Any:
    cpu0 = time.process_time()
    t, out = timed(fn)
    cpu = time.process_time() - cpu0
    rate = n / t
    row: dict[str, Any] = {
        "what": what,
        "value": f"{rate:,.0f} profiles/s ({t:.1f} s wall; this process {cpu:.1f} s CPU)",
    }
    if target is not None:
        row.update(target=f">= {target:,}/s", ok=rate >= target)
    rows.append(row)
    return out


def pg_url(tmp: Path) -> tuple[str, list[str]]:
    env = os.environ.get("PATRILINE_TEST_PG")
    if env:
        return env, []
    from plugins.postgres import _start_cluster

    cluster, stop = _start_cluster(tmp)
    return cluster.new_database("bench"), stop


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_rec = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    bandwidth = read_bandwidth_gbs(1 << 28)
    ids, encoded = make_encoded(n)
    records = make_records(ids, encoded, min(n, n_rec))
    rows: list[dict[str, Any]] = []
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="plbench") as d:
        tmp = Path(d)
        csv = tmp / "yfp.csv"
        write_encoded(ids, encoded, csv, {"kit": ["yfiler_plus"] * n})
        pgtmp = Path(tempfile.mkdtemp(prefix="plpg"))
        url, stop = pg_url(pgtmp)
        try:
            for k, (engine, target, store_url) in enumerate(
                (("SQLite", 100_000, str(tmp / "b.db")), ("PostgreSQL", 50_000, url))
            ):
                db = Database.create(store_url, "bench")
                actor = db.actor("bench")
                read = measure(
                    rows,
                    f"{engine}: io.read_encoded of the {n:,}-row CSV (not part of the store figure)",
                    n,
                    lambda db=db: read_encoded(csv, db.layout),
                    None,
                )
                summary = measure(
                    rows,
                    f"{engine} store import, {n:,} Yfiler Plus profiles (read_encoded result)",
                    n,
                    lambda db=db, actor=actor, read=read: Session(db, actor).import_encoded(read),
                    target,
                )
                assert summary.added == n, summary
                again = measure(
                    rows,
                    f"{engine} re-import (all unchanged)",
                    n,
                    lambda db=db, actor=actor, read=read: Session(db, actor).import_encoded(read),
                    None,
                )
                assert again.unchanged == n, again
                db.close()
                del read
                db = Database.create(
                    str(tmp / f"f{k}.db") if k == 0 else pg_url_new(url, "f"), "bench"
                )
                actor = db.actor("bench")
                s3 = measure(
                    rows,
                    f"{engine} file import end to end (read + store), {n:,} rows",
                    n,
                    lambda db=db, actor=actor: Session(db, actor).import_file(csv),
                    target,
                )
                assert s3.added == n, s3
                db.close()
                db = Database.create(
                    str(tmp / f"r{k}.db") if k == 0 else pg_url_new(url, "r"), "bench"
                )
                actor = db.actor("bench")
                s4 = measure(
                    rows,
                    f"{engine} import_records (per-row Records), {len(records):,} profiles",
                    len(records),
                    lambda db=db, actor=actor: Session(db, actor).import_records(records),
                    None,
                )
                assert s4.added == len(records), s4
                db.close()
        finally:
            if stop:
                subprocess.run(stop, capture_output=True)
            shutil.rmtree(pgtmp, ignore_errors=True)
    rows.append(
        {
            "what": "load average (1, 5, 15 min) at start / end",
            "value": f"{load0} / {os.getloadavg()}",
        }
    )
    rows.append({"what": "peak RSS", "value": f"{peak_rss_gb():.2f} GB"})
    report("import", rows, bandwidth)


def pg_url_new(url: str, name: str) -> str:
    """A second database on the same server (for the file import)."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(
        u.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    ) as conn:
        conn.execute(f'CREATE DATABASE "bench_{name}"')
    return u.set(database=f"bench_{name}").render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
