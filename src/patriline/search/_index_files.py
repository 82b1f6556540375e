"""Persistence of a :class:`~patriline.search.index.SearchIndex` in *generations*.

An index directory holds one pointer file, ``CURRENT``, naming a generation folder
``gen-<uuid>/``: one ``.npy`` file per array (the big ones memory-mapped on open) and a
``manifest.json`` recording the generation id and, per array, its shape, dtype, file
size and SHA-256. A save writes a complete new generation (hard-linking the unchanged
big arrays of the current one), fsyncs it, then switches ``CURRENT`` with one
``os.replace`` and removes every other generation — so a kill at any step leaves either
the old index or the new one, never ids of one build beside profiles of another, and no
old generation keeps an expunged profile once a save has finished.

On open, the manifest's generation, shapes, dtypes and sizes are checked every time;
the checksums once per process per generation (hashing ~170 MB of a 1M-row index costs
a fraction of a second, see docs/search.md). Any mismatch raises
:class:`IndexCorruptError`. Directories are created 0700 and files 0600 whatever the
umask.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from patriline.errors import InputError
from patriline.haplotype import Allele, AlleleKind

if TYPE_CHECKING:
    from patriline.search.index import SearchIndex

FORMAT_VERSION = 2
#: Arrays of every index, beside ``block{b}_hash``/``block{b}_rows`` and the delta.
ARRAYS = ("ids", "values", "alive", "residual", "col_freq", "exact_hash", "exact_rows")
POINTER = "CURRENT"
_DIR_MODE = 0o700
_FILE_MODE = 0o600

#: Test hook: called with the name of every write step of :func:`save_index` (a test
#: raises from it to simulate a crash at that step).
FAIL_HOOK: Callable[[str], None] | None = None
#: Environment variable: SIGKILL this process at the N-th write step (0-based; tests).
KILL_ENV = "PATRILINE_TEST_INDEX_KILL_AT"
_steps_taken = 0
#: Generation folders whose checksums this process has verified.
_VERIFIED: set[tuple[str, str]] = set()


class IndexCorruptError(InputError):
    """The index files do not form one consistent generation (torn write, tampering)."""


def _step(name: str) -> None:
    global _steps_taken
    if FAIL_HOOK is not None:
        FAIL_HOOK(name)
    kill_at = os.environ.get(KILL_ENV)
    if kill_at is not None and _steps_taken == int(kill_at):
        os.kill(os.getpid(), signal.SIGKILL)
    _steps_taken += 1


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed; ``path`` itself is made 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, _DIR_MODE)
    return path


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _HashingWriter:
    """A file wrapper hashing what is written (``np.save`` then writes in chunks)."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.sha, self.size = fh, hashlib.sha256(), 0

    def write(self, data: Any) -> int:
        mv = memoryview(data).cast("B")
        self.sha.update(mv)
        self.size += len(mv)
        return int(self.fh.write(mv))

    def flush(self) -> None:
        self.fh.flush()


def _write_array(path: Path, arr: np.ndarray) -> dict[str, Any]:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    os.fchmod(fd, _FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        w = _HashingWriter(fh)
        np.save(w, np.ascontiguousarray(arr), allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    return {"shape": list(arr.shape), "dtype": arr.dtype.str, "bytes": w.size,
            "sha256": w.sha.hexdigest()}  # fmt: skip


def _write_text(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    os.fchmod(fd, _FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def current_generation(root: Path) -> str | None:
    """The generation ``CURRENT`` names (``None``: no index here)."""
    try:
        name = (root / POINTER).read_text().strip()
    except FileNotFoundError:
        return None
    return name or None


def save_index(index: SearchIndex, path: str | os.PathLike[str]) -> Path:
    """Write ``index`` as a new generation of directory ``path`` and switch to it."""
    root = private_dir(Path(path))
    gen = f"gen-{uuid.uuid4().hex}"
    tmp = root / f".tmp-{gen}"
    private_dir(tmp)
    _step("mkdir")
    old = current_generation(root)
    old_doc: dict[str, Any] = {}
    if old is not None:
        try:
            old_doc = json.loads((root / old / "manifest.json").read_text()).get("arrays", {})
        except (FileNotFoundError, ValueError):
            old_doc = {}
    arrays = {name: getattr(index, name) for name in ARRAYS}
    for b in range(len(index.blocks)):
        arrays[f"block{b}_hash"] = index.block_hash[b]
        arrays[f"block{b}_rows"] = index.block_rows[b]
    arrays["delta_values"] = index.delta_values
    arrays["delta_alive"] = index.delta_alive
    entries: dict[str, dict[str, Any]] = {}
    for name, arr in arrays.items():
        target = tmp / f"{name}.npy"
        src = Path(str(arr.filename)) if isinstance(arr, np.memmap) and arr.filename else None
        if (
            src is not None
            and old is not None
            and src.parent.name == old
            and src.parent.parent.resolve() == root.resolve()
            and src.name == target.name
            and name in old_doc
            and list(arr.shape) == old_doc[name]["shape"]
            and arr.dtype.str == old_doc[name]["dtype"]
        ):
            os.link(src, target)  # unchanged, memory-mapped read-only from the old one
            entries[name] = dict(old_doc[name])
        else:
            entries[name] = {**_write_array(target, np.asarray(arr)), "written_in": gen}
        _step(f"array:{name}")
    manifest = dict(index.manifest)
    manifest["format"] = FORMAT_VERSION
    manifest["generation"] = gen
    manifest["seq"] = index.seq
    manifest["delta_ids"] = list(index.delta_ids)
    manifest["delta_extras"] = extras_to_json(index.delta_extras)
    manifest["arrays"] = entries
    _write_text(tmp / "manifest.json", json.dumps(manifest, indent=1, sort_keys=True))
    _step("manifest")
    _fsync_dir(tmp)
    os.rename(tmp, root / gen)
    _step("rename")
    _fsync_dir(root)
    pointer_tmp = root / f".{POINTER}.{gen}"
    _write_text(pointer_tmp, gen + "\n")
    _step("pointer-written")
    os.replace(pointer_tmp, root / POINTER)
    _fsync_dir(root)
    _step("pointer-switched")
    remove_stale(root, keep=gen)
    _step("cleaned")
    index.manifest = manifest
    _VERIFIED.add((str(root.resolve()), gen))  # written (and hashed) by this process
    return root


def remove_stale(root: Path, *, keep: str | None) -> None:
    """Remove everything in ``root`` but ``CURRENT`` and generation ``keep`` (older
    generations, torn saves, files of format 1): no copy of a profile stays behind."""
    if not root.is_dir():
        return
    stale = [e for e in root.iterdir() if e.name not in (POINTER, keep)]
    if not stale:
        return
    for entry in stale:
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
    _fsync_dir(root)


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def load_index(
    path: str | os.PathLike[str], *, verify: str = "once"
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The manifest and arrays of a saved index; the big arrays memory-mapped read-only.

    Generation, shapes, dtypes and sizes are always checked; checksums per ``verify``:
    ``"once"`` (first open of a generation in this process), ``"always"`` or ``"never"``.
    Raises :class:`IndexCorruptError` on any mismatch.
    """
    root = Path(path)
    gen = current_generation(root)
    if gen is None:
        raise InputError(f"{root}: no search index here ({POINTER} missing)")
    gdir = root / gen
    try:
        manifest = json.loads((gdir / "manifest.json").read_text())
    except (FileNotFoundError, NotADirectoryError):
        raise IndexCorruptError(f"{root}: generation {gen} named by {POINTER} is missing") from None
    except ValueError as exc:
        raise IndexCorruptError(f"{gdir}/manifest.json: not valid JSON ({exc})") from None
    if manifest.get("format") != FORMAT_VERSION:
        raise IndexCorruptError(
            f"{gdir}: index format {manifest.get('format')} is not {FORMAT_VERSION}; rebuild it"
        )
    if manifest.get("generation") != gen:
        raise IndexCorruptError(
            f"{gdir}/manifest.json: generation {manifest.get('generation')!r} is not {gen!r}"
        )
    entries: dict[str, dict[str, Any]] = manifest.get("arrays", {})
    names = [*list(ARRAYS), "delta_values", "delta_alive"]
    names += [f"block{b}_{k}" for b in range(len(manifest["blocks"])) for k in ("hash", "rows")]
    key = (str(root.resolve()), gen)
    check_sums = verify == "always" or (verify == "once" and key not in _VERIFIED)
    arrays = {}
    for name in names:
        file = gdir / f"{name}.npy"
        entry = entries.get(name)
        if entry is None:
            raise IndexCorruptError(f"{gdir}: the manifest does not describe {name}.npy")
        try:
            size = file.stat().st_size
        except FileNotFoundError:
            raise IndexCorruptError(f"{gdir}: index file {file.name} is missing") from None
        if size != entry["bytes"]:
            raise IndexCorruptError(
                f"{file}: {size} bytes, the manifest says {entry['bytes']} (truncated?)"
            )
        small = name.startswith("delta") or name == "alive"
        try:
            arr = np.load(file) if small else np.load(file, mmap_mode="r")
        except ValueError as exc:
            raise IndexCorruptError(f"{file}: unreadable ({exc})") from None
        if list(arr.shape) != entry["shape"] or arr.dtype.str != entry["dtype"]:
            raise IndexCorruptError(
                f"{file}: shape {list(arr.shape)} dtype {arr.dtype.str}, the manifest says "
                f"{entry['shape']} {entry['dtype']}"
            )
        if check_sums and _sha256_file(file) != entry["sha256"]:
            raise IndexCorruptError(f"{file}: checksum differs from the manifest's")
        arrays[name] = arr
    n = int(manifest["count"])
    if arrays["ids"].shape != (n,) or arrays["values"].shape[1] != n or len(arrays["alive"]) != n:
        raise IndexCorruptError(f"{gdir}: ids, values and alive do not hold {n} rows each")
    if arrays["delta_values"].shape[1] != len(manifest.get("delta_ids", [])):
        raise IndexCorruptError(f"{gdir}: delta values and delta ids differ in length")
    if check_sums:
        _VERIFIED.add(key)
    return manifest, arrays


def extras_to_json(extras: dict[tuple[int, str], Allele]) -> list[list[Any]]:
    """``[row, locus, kind, values]`` of each allele the encoding holds aside."""
    return [[r, loc, a.kind.value, list(a.values)] for (r, loc), a in sorted(extras.items())]


def extras_from_json(doc: list[list[Any]]) -> dict[tuple[int, str], Allele]:
    """The inverse of :func:`extras_to_json`."""
    return {(int(r), str(loc)): Allele(AlleleKind(k), tuple(v)) for r, loc, k, v in doc}
