"""Start-up cost of the ``patriline`` command: whole-process wall times and imports.

Targets (issue 11): ``patriline --help`` <= 0.3 s and ``patriline info`` on a small
store <= 0.6 s, whole process. Each command runs ``N`` times in a new interpreter (the
console script beside this Python, else ``python -c``); the best and the median wall
time are printed (the best is compared with the target: start-up is a fixed cost, and
the median shows the noise of a shared machine; the process's CPU time, user + system,
is printed beside them as the figure least disturbed by other load). ``version`` and ``kits`` are shown for
comparison (``kits`` loads scipy.stats for the rate intervals). Then the imports of
``patriline --help`` by cumulative time (``python -X importtime``), the ten costliest,
and which heavy packages loaded at all.

The small store is a SQLite file with the 30 profiles of ``examples/yfiler_plus.csv``.

Usage: ``python benchmarks/startup.py [N]`` (default 15).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import read_bandwidth_gbs, report

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("numba", "scipy", "msprime", "matplotlib", "alembic", "pandas", "sqlalchemy", "numpy")


def command() -> list[str]:
    script = Path(sys.executable).with_name("patriline")
    if script.exists():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "from patriline.cli import run; run()"]


def run_times(argv: list[str], n: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall times and CPU times (user + system of the child) of ``n`` runs."""
    walls, cpus = [], []
    for _ in range(n):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return walls, cpus


def import_times(args: list[str], env: dict[str, str]) -> list[tuple[int, int, str]]:
    """(self µs, cumulative µs, module) of every import of ``patriline ARGS``."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from patriline.cli import run; run()", *args],
        env=env,
        capture_output=True,
        text=True,
    )
    rows = []
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cum, name = line[len("import time:") :].split("|", 2)
        rows.append((int(own), int(cum), name.rstrip()))
    return rows


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    bandwidth = read_bandwidth_gbs(1 << 28)
    env = dict(os.environ, PATRILINE_USER="bench")
    env.pop("PATRILINE_DB", None)
    cmd = command()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="plstart") as tmp:
        store = str(Path(tmp) / "small.db")
        subprocess.run([*cmd, "init", store], env=env, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            [*cmd, "import", str(ROOT / "examples" / "yfiler_plus.csv"), "--db", store],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        cases: list[tuple[str, list[str], float | None]] = [
            ("patriline --help", ["--help"], 0.3),
            ("patriline version", ["version"], None),
            ("patriline kits", ["kits"], None),
            ("patriline info (small SQLite store)", ["info", "--db", store], 0.6),
        ]
        for what, args, target in cases:
            times, cpus = run_times([*cmd, *args], n, env)
            best, median = min(times), statistics.median(times)
            rows.append(
                {
                    "what": f"{what}: wall best / median of {n} (CPU best)",
                    "value": f"{best:.3f} s / {median:.3f} s ({min(cpus):.3f} s)",
                    "seconds_best": round(best, 4),
                    "seconds_median": round(median, 4),
                    "cpu_seconds_best": round(min(cpus), 4),
                    "target": None if target is None else f"<= {target} s",
                    "ok": None if target is None else best <= target,
                }
            )
    imports = import_times(["--help"], env)
    top = sorted(imports, key=lambda r: -r[1])[:10]
    loaded = sorted({name.strip().split(".")[0] for _, _, name in imports} & set(HEAVY))
    rows.append({"what": "heavy packages imported by --help", "value": ", ".join(loaded) or "none"})
    report("startup", rows, bandwidth)
    print("  -X importtime of `patriline --help`, top 10 by cumulative time:")
    for own, cum, name in top:
        print(f"    {cum / 1e3:8.1f} ms cumulative {own / 1e3:7.1f} ms self  {name}")


if __name__ == "__main__":
    main()
