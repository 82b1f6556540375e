"""Whole-process latency of ``patriline search`` as an analyst meets it (issue 14 item 16).

Target: an exact search from the CLI on a 1,000,000-profile SQLite store in at most 1.0 s,
whole process (interpreter start, imports, opening the store and its saved search index,
the query, the audit entry, printing), after the index exists (the first search after an
import builds it: ``benchmarks/first_search.py``). Printed beside it: the same search
in-process (the engine's share), and the process's CPU time.

Usage: ``python benchmarks/cli_search.py [N] [RUNS]`` (defaults 1,000,000 and 7).
"""

from __future__ import annotations

import importlib
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import read_bandwidth_gbs, report

from patriline.casework import Session
from patriline.encoding import Encoded, decode
from patriline.io import read_encoded, write_encoded
from patriline.store import Database

_import = importlib.import_module("import")
TARGET_S = 1.0


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    bandwidth = read_bandwidth_gbs(1 << 28)
    ids, enc = _import.make_encoded(n)
    rows = []
    with tempfile.TemporaryDirectory(prefix="plcli") as d:
        tmp = Path(d)
        store = str(tmp / "s.db")
        with Database.create(store, "admin") as db:
            admin = Session(db, db.actor("admin"))
            admin.add_user("ana", "analyst")
            csv = tmp / "yfp.csv"
            write_encoded(ids, enc, csv, {"kit": ["yfiler_plus"] * n})
            admin.import_encoded(read_encoded(csv, db.layout), category="reference")
            csv.unlink()
            ana = Session(db, db.actor("ana"))
            ana.open_case("C1", purpose="benchmark", legal_basis="benchmark")
            (trace,) = decode(Encoded(enc.layout, enc.values[:, [n // 2]], {}))
            text = str(trace)
            ana.search("C1", text)  # builds and saves the index
            t0 = time.perf_counter()
            for _ in range(runs):
                ana.search("C1", text)
            inproc = (time.perf_counter() - t0) / runs
        exe = str(Path(sys.executable).with_name("patriline"))
        env = {**os.environ, "PATRILINE_USER": "ana"}
        argv = [exe, "search", "--db", store, "--case", "C1", "--haplotype", text]
        walls, cpus = [], []
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    best, median = min(walls), statistics.median(walls)
    rows.append({"what": f"CLI search, {n:,}-profile SQLite store, whole process (best of {runs})",
                 "value": f"{best:.2f} s (median {median:.2f} s, CPU {statistics.median(cpus):.2f} s)",
                 "target": f"<= {TARGET_S} s", "ok": best <= TARGET_S})  # fmt: skip
    rows.append({"what": "the same search in-process (Session.search, index warm)",
                 "value": f"{inproc * 1000:.1f} ms"})  # fmt: skip
    report("cli_search", rows, bandwidth)


if __name__ == "__main__":
    main()
