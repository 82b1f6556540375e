"""CLI commands for the simulate concern (thin: parse, call the library, format)."""

from __future__ import annotations

from pathlib import Path

import typer

from patriline.commands._common import JSON_OPTION, emit_json
from patriline.errors import InputError

HISTORY_HELP = "Size history: --generations of constant size, then --growth-generations of growth."


def _shares(text: str) -> list[float]:
    try:
        vals = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        raise InputError(f"--shares: not a list of numbers: {text!r}") from None
    if not vals:
        raise InputError("--shares: give at least one share")
    for v in vals:
        if not 0.0 < v <= 1.0:
            raise InputError(f"--shares: a share must be in (0, 1], e.g. 0.05 for 5% (got {v})")
    return vals


def register(app: typer.Typer) -> None:
    """Add this concern's commands to app."""

    @app.command("simulate")
    def simulate_cmd(
        males: int = typer.Option(..., "--males", help="Living (final generation) males."),
        generations: int = typer.Option(..., "--generations", help="Generations of constant size."),
        growth: float = typer.Option(0.0, "--growth", help="Growth rate per generation."),
        growth_generations: int = typer.Option(
            0, "--growth-generations", help="Generations of growth."
        ),
        vrs: float = typer.Option(
            0.0, "--vrs", help="Variance in reproductive success (0: Wright-Fisher)."
        ),
        kit: str = typer.Option(
            "yfiler_plus", "--kit", help="Kit(s) whose loci to simulate (K or K1,K2)."
        ),
        keep_generations: int = typer.Option(
            1, "--keep-generations", help="Last generations written (1: living only)."
        ),
        founders: str = typer.Option("msprime", "--founders", help="msprime or monomorphic."),
        founder_ne: float | None = typer.Option(
            None, "--founder-ne", help="Effective size of the founders' coalescent (default 300)."
        ),
        seed: int = typer.Option(..., "--seed", help="Random seed (same seed, same output)."),
        out: Path = typer.Option(..., "--out", help="Output directory."),
        json_out: bool = JSON_OPTION,
    ) -> None:
        """Simulate a male population with father links and Y-STR haplotypes into DIR."""
        from patriline.simulate import SimConfig, loci_for_kits, simulate, write_population

        kits = [k.strip() for k in kit.split(",") if k.strip()]
        cfg = SimConfig(
            males=males,
            generations=generations,
            growth=growth,
            growth_generations=growth_generations,
            vrs=vrs,
            kit=kits[0] if kits else kit,
            loci=loci_for_kits(kits) if len(kits) > 1 else None,
            keep_generations=keep_generations,
            founders=founders,
            founder_ne=founder_ne,
            seed=seed,
        )
        summary = write_population(simulate(cfg), out)
        if json_out:
            emit_json({"out": str(out), **summary})
        else:
            typer.echo(
                f"wrote {summary['males_written']} males ({summary['links_written']} links, "
                f"{summary['lineages_living']} living lineages) to {out}"
            )

    @app.command("reach")
    def reach_cmd(
        males: int = typer.Option(..., "--males", help="Living (final generation) males."),
        generations: int = typer.Option(..., "--generations", help="Generations of constant size."),
        growth: float = typer.Option(0.0, "--growth", help="Growth rate per generation."),
        growth_generations: int = typer.Option(
            0, "--growth-generations", help="Generations of growth."
        ),
        vrs: float = typer.Option(0.0, "--vrs", help="Variance in reproductive success."),
        kit: str = typer.Option("yfiler_plus", "--kit", help="Kits, comma-separated."),
        shares: str = typer.Option(
            "0.005,0.01,0.02,0.05,0.1,0.2", "--shares", help="Database shares, e.g. 0.005,0.05."
        ),
        max_mismatches: int = typer.Option(
            0, "--max-mismatches", help="Mismatching locus copies allowed."
        ),
        living_generations: int = typer.Option(
            1, "--living-generations", help="Last generations taken as alive (the malan study: 3)."
        ),
        queries: int = typer.Option(
            2000,
            "--queries",
            help="Men sampled for meioses (and for P(match) when mismatches > 0).",
        ),
        founders: str = typer.Option("msprime", "--founders", help="msprime or monomorphic."),
        founder_ne: float | None = typer.Option(
            None, "--founder-ne", help="Effective size of the founders' coalescent (default 300)."
        ),
        traces: str = typer.Option(
            "outside",
            "--traces",
            help="Trace donors: 'outside' (living men not in the database) or 'all' (any "
            "living man; a stored donor matches himself, as in the published study).",
        ),
        seed: int = typer.Option(..., "--seed", help="Random seed."),
        json_out: bool = JSON_OPTION,
        plot: Path | None = typer.Option(
            None, "--plot", help="Write plots to FILE (.png and .svg)."
        ),
        concentration: float = typer.Option(
            0.0,
            "--concentration",
            help="0: uniform database sample; > 0 over-samples whole families (Gamma variance).",
        ),
        db: str | None = typer.Option(
            None,
            "--db",
            help="Exposure report for this store: men outside it each stored lineage exposes "
            "(--males is then the country's male population).",
        ),
        user: str | None = typer.Option(
            None, "--user", help="Acting user (default $PATRILINE_USER)."
        ),
    ) -> None:
        """How far a database of some share of men reaches (simulated population).

        With --db: an exposure report for an existing store, the simulated population
        standing for the country.
        """
        from patriline.simulate import SimConfig, loci_for_kits, reach, simulate
        from patriline.simulate.plots import plot_reach

        kits = [k.strip() for k in kit.split(",") if k.strip()]
        if not kits:
            raise InputError("--kit: give at least one kit")
        share_list = _shares(shares)
        cfg = SimConfig(
            males=males,
            generations=generations,
            growth=growth,
            growth_generations=growth_generations,
            vrs=vrs,
            loci=loci_for_kits(kits),
            keep_generations=living_generations,
            founders=founders,
            founder_ne=founder_ne,
            seed=seed,
        )
        if db is not None:
            _exposure(db, user, kits, simulate(cfg), json_out)
            return
        result = reach(
            simulate(cfg),
            kits,
            share_list,
            max_mismatches=max_mismatches,
            n_queries=queries,
            living_generations=living_generations,
            concentration=concentration,
            traces=traces,
            seed=seed,
        )
        if plot is not None:
            plot_reach(result, plot)
        if json_out:
            doc = result.to_dict()
            doc["rows"] = [
                {
                    k: r[k]
                    for k in (
                        "kit",
                        "share",
                        "p_match",
                        "p_within_5_meioses_given_match",
                        "mean_matching_men",
                        "database_size",
                        "max_mismatches",
                        "n_queries",
                        "closest_meioses",
                    )
                }
                for r in doc["rows"]
            ]
            emit_json(doc)
        else:
            typer.echo(result.table())


def _exposure(url: str, user: str | None, kits: list[str], country: object, json_out: bool) -> None:
    from patriline.casework import Session
    from patriline.commands._common import default_user
    from patriline.simulate.population import Population

    assert isinstance(country, Population)
    with Session.open(url, user or default_user()) as session:
        reports = [session.exposure(k, country) for k in kits]
    if json_out:
        emit_json({"reports": [r.to_dict() for r in reports]})
    else:
        typer.echo("\n\n".join(r.table() for r in reports))
