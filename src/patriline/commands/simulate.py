"""CLI commands for the simulate concern (thin: parse, call the library, format)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
        males: int | None = typer.Option(
            None, "--males", help="Living (final generation) males (not with --regions)."
        ),
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
        regions: Path | None = typer.Option(
            None,
            "--regions",
            help="Region table (CSV: region,males[,growth][,parent]): a structured country "
            "written as Parquet shards with a manifest.",
        ),
        migration: float | None = typer.Option(
            None, "--migration", help="With --regions: share of sons raised in another region."
        ),
        migration_model: str = typer.Option(
            "uniform",
            "--migration-model",
            help="uniform (island model: m = 1 is panmixia) or nearest (stepping stone on the "
            "table order).",
        ),
        shard_rows: int = typer.Option(
            1_000_000, "--shard-rows", help="With --regions: most rows in one Parquet shard."
        ),
        dask: str | None = typer.Option(
            None,
            "--dask",
            help="With --regions: run regions as Dask tasks on SCHEDULER (tcp://host:8786) or "
            "on a LocalCluster (local or local:N). Same output for any number of workers.",
        ),
        json_out: bool = JSON_OPTION,
    ) -> None:
        """Simulate a male population with father links and Y-STR haplotypes into DIR."""
        from patriline.simulate import SimConfig, loci_for_kits, simulate, write_population

        kits = [k.strip() for k in kit.split(",") if k.strip()]
        # The model of every region, or of the one population: the same settings.
        settings: dict[str, Any] = {
            "generations": generations,
            "growth": growth,
            "growth_generations": growth_generations,
            "vrs": vrs,
            "kit": kits[0] if kits else kit,
            "loci": loci_for_kits(kits) if len(kits) > 1 else None,
            "keep_generations": keep_generations,
            "founders": founders,
            "founder_ne": founder_ne,
            "seed": seed,
        }
        if regions is not None:
            manifest = _simulate_regions(
                regions,
                migration,
                migration_model,
                shard_rows,
                dask,
                out,
                **settings,
            )
            if json_out:
                emit_json({"out": str(out), **{k: v for k, v in manifest.items() if k != "shards"}})
            else:
                typer.echo(
                    f"wrote {manifest['living_men']} living men in {len(manifest['regions'])} "
                    f"regions ({manifest['total_men']} in all generations, "
                    f"{len(manifest['shards'])} shards) to {out}"
                )
            return
        _no_region_options(migration, dask)
        if males is None:
            raise InputError("--males is required (or --regions FILE for a structured country)")
        cfg = SimConfig(males=males, **settings)
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
        males: int | None = typer.Option(None, "--males", help="Living (final generation) males."),
        generations: int | None = typer.Option(
            None, "--generations", help="Generations of constant size."
        ),
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
        seed: int | None = typer.Option(None, "--seed", help="Random seed."),
        json_out: bool = JSON_OPTION,
        plot: Path | None = typer.Option(
            None, "--plot", help="Write plots to FILE (.png and .svg)."
        ),
        population: Path | None = typer.Option(
            None,
            "--population",
            help="Reach an existing simulation DIR (patriline simulate --out; shards too) "
            "instead of simulating.",
        ),
        regions: Path | None = typer.Option(
            None, "--regions", help="Simulate a structured country from this region table."
        ),
        migration: float | None = typer.Option(
            None, "--migration", help="With --regions: share of sons raised in another region."
        ),
        migration_model: str = typer.Option(
            "uniform", "--migration-model", help="With --regions: uniform or nearest."
        ),
        dask: str | None = typer.Option(
            None,
            "--dask",
            help="With --regions: simulate on Dask (SCHEDULER address, local or local:N).",
        ),
        out: Path | None = typer.Option(
            None,
            "--out",
            help="With --regions: keep the country's shards in DIR (default: a temporary one).",
        ),
        shares_file: Path | None = typer.Option(
            None,
            "--shares-file",
            help="Database share of each region (CSV region,share; missing regions: 0); "
            "replaces --shares.",
        ),
        within: int = typer.Option(
            5, "--within", help="By region: findable = a relative within K meioses."
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
        standing for the country. With --regions (a structured country) or --population
        DIR of one, or --shares-file: reach by region.
        """
        from patriline.simulate import SimConfig, loci_for_kits, reach, simulate
        from patriline.simulate.plots import plot_reach

        kits = [k.strip() for k in kit.split(",") if k.strip()]
        if not kits:
            raise InputError("--kit: give at least one kit")
        share_list = _shares(shares)
        if population is not None or regions is not None or shares_file is not None:
            _regional(
                population=population,
                regions=regions,
                migration=migration,
                migration_model=migration_model,
                dask=dask,
                out=out,
                kits=kits,
                share_list=share_list,
                shares_file=shares_file,
                within=within,
                max_mismatches=max_mismatches,
                queries=queries,
                living_generations=living_generations,
                traces=traces,
                seed=seed,
                plot=plot,
                json_out=json_out,
                sim={
                    "males": males,
                    "generations": generations,
                    "growth": growth,
                    "growth_generations": growth_generations,
                    "vrs": vrs,
                    "loci": loci_for_kits(kits),
                    "keep_generations": living_generations,
                    "founders": founders,
                    "founder_ne": founder_ne,
                },
            )
            return
        _no_region_options(migration, dask)
        if males is None or generations is None or seed is None:
            raise InputError("--males, --generations and --seed are required (or --population)")
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
    from patriline.commands._common import default_user, store_url
    from patriline.simulate.population import Population

    assert isinstance(country, Population)
    with Session.open(store_url(url), user or default_user()) as session:
        reports = [session.exposure(k, country) for k in kits]
    if json_out:
        emit_json({"reports": [r.to_dict() for r in reports]})
    else:
        typer.echo("\n\n".join(r.table() for r in reports))


def _no_region_options(migration: float | None, dask: str | None) -> None:
    if migration is not None:
        raise InputError("--migration needs --regions FILE (a structured country)")
    if dask is not None:
        raise InputError("--dask needs --regions FILE (regions are the Dask tasks)")


def _simulate_regions(
    regions: Path,
    migration: float | None,
    model: str,
    shard_rows: int,
    dask: str | None,
    out: Path,
    **sim: object,
) -> dict[str, Any]:
    """Simulate a structured country (on Dask with ``dask``); returns the manifest."""
    from patriline.simulate import SimConfig
    from patriline.simulate.regions import read_regions
    from patriline.simulate.structured import CountryConfig, simulate_country

    if migration is None:
        raise InputError("--regions needs --migration M (share of sons raised elsewhere; 0-1)")
    table = read_regions(regions)
    base = SimConfig(males=sum(r.males for r in table), **sim)  # type: ignore[arg-type]
    cfg = CountryConfig(base, table, migration, model, shard_rows)
    if dask is None:
        return simulate_country(cfg, out)
    from patriline.simulate.distributed import dask_client, dask_mapper

    with dask_client(dask) as client:
        return simulate_country(cfg, out, mapper=dask_mapper(client), workers=dask)


def _regional(
    *,
    population: Path | None,
    regions: Path | None,
    migration: float | None,
    migration_model: str,
    dask: str | None,
    out: Path | None,
    kits: list[str],
    share_list: list[float],
    shares_file: Path | None,
    within: int,
    max_mismatches: int,
    queries: int,
    living_generations: int,
    traces: str,
    seed: int | None,
    plot: Path | None,
    json_out: bool,
    sim: dict[str, object],
) -> None:
    """Reach by region: of a simulation directory, of a country simulated now, or of a
    panmictic population (one region) with --shares-file."""
    import tempfile

    from patriline.simulate import SimConfig, load_population, simulate
    from patriline.simulate.regional import regional_reach
    from patriline.simulate.regions import read_shares

    if population is not None and regions is not None:
        raise InputError("give --population DIR or --regions FILE, not both")
    tmp: tempfile.TemporaryDirectory[str] | None = None
    try:
        if population is not None:
            _no_region_options(migration, dask)
            pop = load_population(population)
        else:
            if seed is None or sim["generations"] is None:
                raise InputError("--generations and --seed are required to simulate")
            if regions is not None:
                if out is None:
                    tmp = tempfile.TemporaryDirectory(prefix="patriline-country-")
                where = Path(tmp.name) if tmp is not None else out
                assert where is not None
                sim = {k: v for k, v in sim.items() if k != "males"}
                _simulate_regions(
                    regions, migration, migration_model, 1_000_000, dask, where, seed=seed, **sim
                )
                pop = load_population(where)
            else:
                _no_region_options(migration, dask)
                if sim["males"] is None:
                    raise InputError("--males is required (or --regions / --population)")
                pop = simulate(SimConfig(seed=seed, **sim))  # type: ignore[arg-type]
        run_seed = 0 if seed is None else seed
        scenarios = [
            (
                f"{s:.0%} everywhere" if s >= 0.01 else f"{s:.1%} everywhere",
                regional_reach(
                    pop,
                    kits,
                    s,
                    within=within,
                    max_mismatches=max_mismatches,
                    n_queries=queries,
                    living_generations=living_generations,
                    traces=traces,
                    seed=run_seed,
                ),
            )
            for s in ([] if shares_file is not None else share_list)
        ]
        if shares_file is not None:
            by_region = read_shares(shares_file, pop.region_names)
            scenarios.append(
                (
                    shares_file.name,
                    regional_reach(
                        pop,
                        kits,
                        by_region,
                        within=within,
                        max_mismatches=max_mismatches,
                        n_queries=queries,
                        living_generations=living_generations,
                        traces=traces,
                        seed=run_seed,
                    ),
                )
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    if plot is not None:
        from patriline.simulate.plots import plot_regional

        plot_regional(scenarios, plot)
    if json_out:
        emit_json({"scenarios": [{"name": n, **r.to_dict()} for n, r in scenarios]})
    else:
        typer.echo("\n\n".join(f"sampling: {n}\n{r.table()}" for n, r in scenarios))
