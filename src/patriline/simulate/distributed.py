"""Running the structured simulator's steps on Dask (``--dask SCHEDULER`` or ``local[:N]``).

The simulator (:mod:`patriline.simulate.structured`) is a sequence of generations; in
each, one step per region, independent of the others. :func:`dask_mapper` submits a
generation's steps to a ``distributed.Client`` and gathers their (small) results, a
barrier between generations where the migrants are exchanged: a step reads its
fathers' haplotypes from the scratch files that the previous generation's steps wrote,
so every worker needs the output directory on **shared storage** (one machine, or a
network file system mounted at the same path on every worker). Every random draw is
keyed by (region, generation), so the output is the same for any number of workers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from patriline.errors import InputError

__all__ = ["dask_client", "dask_mapper", "parse_dask"]


def parse_dask(spec: str) -> tuple[str, int | None]:
    """``local`` / ``local:N`` → ("local", N); anything else is a scheduler address."""
    text = spec.strip()
    if text == "local" or text.startswith("local:"):
        n: int | None = None
        if ":" in text:
            try:
                n = int(text.split(":", 1)[1])
            except ValueError:
                raise InputError(f"--dask {spec!r}: give local or local:N (N workers)") from None
            if n < 1:
                raise InputError(f"--dask {spec!r}: at least one worker")
        return "local", n
    if not text:
        raise InputError("--dask: give a scheduler address (tcp://host:8786) or local[:N]")
    return text, None


@contextlib.contextmanager
def dask_client(spec: str, *, processes: bool = True) -> Iterator[Any]:
    """A ``distributed.Client``: a LocalCluster for ``local[:N]`` (one thread per worker),
    else connected to the scheduler at ``spec``. Closed on exit."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError("--dask needs dask: pip install 'patriline[distributed]'") from None
    address, n = parse_dask(spec)
    if address == "local":
        cluster = LocalCluster(
            n_workers=n or 2,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=None,
            silence_logs=40,
        )
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            cluster.close()
        return
    try:
        client = Client(address, timeout=30)
    except OSError as exc:
        raise InputError(f"--dask {spec}: cannot reach the scheduler: {exc}") from None
    try:
        yield client
    finally:
        client.close()


def dask_mapper(client: Any) -> Callable[[Callable[..., Any], list[tuple[Any, ...]]], list[Any]]:
    """A mapper (see :data:`patriline.simulate.structured.Mapper`) running on ``client``."""

    def run(fn: Callable[..., Any], args: list[tuple[Any, ...]]) -> list[Any]:
        if not args:
            return []
        futures = [client.submit(fn, *a, pure=False) for a in args]
        return list(client.gather(futures))

    return run
