"""Plots of a reach analysis (matplotlib, PNG and SVG)."""

from __future__ import annotations

from pathlib import Path

from patriline.errors import InputError
from patriline.simulate.reach import ReachResult

__all__ = ["plot_reach"]


def plot_reach(result: ReachResult, path: str | Path) -> list[Path]:
    """Two panels: P(database match) and P(≤ 5 meioses | match) against the database
    share (log axis, in %), one line per kit. Writes ``path`` as PNG and SVG (the other
    suffix beside it) and returns the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in (".png", ".svg") else path
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    kits = list(dict.fromkeys(r.kit for r in result.rows))
    k = result.rows[0].max_mismatches if result.rows else 0
    for kit in kits:
        rows = sorted((r for r in result.rows if r.kit == kit), key=lambda r: r.share)
        x = [100 * r.share for r in rows]
        axes[0].plot(x, [100 * r.p_match for r in rows], marker="o", label=kit)
        y = [
            float("nan")
            if r.p_within_5_meioses_given_match is None
            else 100 * r.p_within_5_meioses_given_match
            for r in rows
        ]
        axes[1].plot(x, y, marker="o", label=kit)
    what = "an exact match" if k == 0 else f"a match within {k} mismatches"
    axes[0].set_ylabel(f"men outside the database with {what} (%)")
    axes[1].set_ylabel("closest match within 5 meioses, given a match (%)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("database share of living men (%, log scale)")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        ax.set_ylim(0, 100)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="kit")
    p = result.provenance.get("parameters", {}).get("simulation", {})
    fig.suptitle(
        f"Database reach: {p.get('males', '?')} living men, VRS {p.get('vrs', '?')}, "
        f"seed {result.provenance.get('seed')}"
    )
    written = []
    try:
        for suffix in (".png", ".svg"):
            fig.savefig(base.with_suffix(suffix), dpi=120)
            written.append(base.with_suffix(suffix))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the plot: {exc}") from None
    finally:
        plt.close(fig)
    return written
