"""One provenance document for every product of patriline.

A search result, a pairs list, an import summary, a fitted model, a report, a simulation,
a reach table and a pedigree expansion each carry the same document, built by
:func:`document`::

    {"schema_version": 1,
     "software": {"name": "patriline", "version": "0.1.0"},
     "kind": "search",                       # what product this is
     "created": "2026-12-04T03:40:00Z",      # UTC
     "parameters": {...},                    # what was asked
     "inputs": {...},                        # what was read: files (name, sha256), store seq
     "models": {...},                        # models that ran, each as its describe() says
     "seed": 11,                             # random seed, None when nothing is random
     "environment": {"python": ..., "platform": ..., "packages": {"numpy": ..., ...}}}

A product may add its own facts as further top-level keys (a search adds ``engine`` and
``index``). The JSON schema is the packaged file ``provenance.schema.json``;
:func:`validate` checks a document against it (needs ``jsonschema``, a development
dependency). This module is part of the core: it imports nothing above
``patriline.errors``, and package versions are read from the installed metadata.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import sys
import time
from collections.abc import Mapping
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from patriline._version import __version__

__all__ = ["SCHEMA_VERSION", "document", "file_input", "schema", "validate"]

SCHEMA_VERSION = 1
SOFTWARE = "patriline"
# Packages whose versions can change a product's numbers (as installed; absent ones left out).
PACKAGES = ("numpy", "scipy", "numba", "sqlalchemy", "msprime")


def document(
    kind: str,
    parameters: Mapping[str, Any],
    *,
    inputs: Mapping[str, Any] | None = None,
    models: Mapping[str, Any] | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """The provenance document of one product (see the module docstring).

    ``kind`` names the product (``"search"``, ``"simulate"``, ``"fit"``, ...);
    ``parameters`` is what was asked, ``inputs`` what was read and ``models`` the models
    that ran, each as its own ``describe()`` gives it.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "software": {"name": SOFTWARE, "version": __version__},
        "kind": kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "parameters": dict(parameters),
        "inputs": dict(inputs or {}),
        "models": dict(models or {}),
        "seed": seed,
        "environment": environment(),
    }


@functools.lru_cache(maxsize=1)
def _environment() -> tuple[str, str, tuple[tuple[str, str], ...]]:
    versions = []
    for name in PACKAGES:
        try:
            versions.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return platform.python_version(), platform.platform(), tuple(versions)


def environment() -> dict[str, Any]:
    """Python, platform and the versions of the numerical packages installed."""
    python, plat, versions = _environment()
    return {"python": python, "platform": plat, "packages": dict(versions)}


def file_input(path: str | Path) -> dict[str, Any]:
    """How a document names an input file: its name, size and SHA-256."""
    p = Path(path)
    digest = hashlib.sha256()
    with p.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"name": p.name, "bytes": p.stat().st_size, "sha256": digest.hexdigest()}


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON schema of a provenance document (``provenance.schema.json``)."""
    text = resources.files("patriline").joinpath("provenance.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(doc: Mapping[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``doc`` is a valid provenance document.

    The document is checked as it would be written: through JSON (``default=str``, as
    every product writes it).
    """
    import jsonschema  # a development dependency: used by the tests and by audits of output

    as_written = json.loads(json.dumps(doc, default=str))
    jsonschema.validate(as_written, schema(), cls=jsonschema.Draft202012Validator)


if __name__ == "__main__":  # pragma: no cover - `python -m patriline.provenance FILE` checks one
    validate(json.loads(Path(sys.argv[1]).read_text("utf-8")))
    print("valid")
