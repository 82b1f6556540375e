"""The Y-STR locus and kit catalog: loaded from the data files beside this module.

Every value in ``data/loci.csv`` and ``data/kits.toml`` carries its source in the file.
This module only parses them and answers questions: which locus does a lab's spelling
mean, which loci does a kit type, how fast does a locus mutate and how sure are we.
"""

from __future__ import annotations

import csv
import difflib
import functools
import io
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # scipy.stats costs ~0.4 s to import: only rate_posterior needs it
    from scipy import stats

from patriline.errors import InputError, truncate

__all__ = [
    "BALLANTYNE_2010_MEIOSES_PER_MARKER",
    "Catalog",
    "ColumnRef",
    "Kit",
    "Locus",
    "UnknownKitError",
    "UnknownLocusError",
    "default_catalog",
    "normalize_name",
]

#: Effective number of meioses per marker for rates published without counts.
#: Ballantyne et al. 2010 (AJHG 87:341) typed 186 Y-STRs in ~2000 father-son pairs,
#: 352,999 meiotic transfers in all: 352,999 / 186 = 1,898 per marker.
BALLANTYNE_2010_MEIOSES_PER_MARKER = 1898

#: Spellings of the DYS389II-minus-DYS389I segment, which some labs report instead of DYS389II.
_DYS389_DIFFERENCE_NAMES = {
    "DYS389IIMINUSI",
    "DYS389III",
    "DYS389B",
    "DYS389IIDIFF",
    "DYS389BSEGMENT",
}


def normalize_name(name: str) -> str:
    """Fold a locus or column name as labs write it into a comparison key.

    Upper-cases and drops everything but letters and digits, so ``Y-GATA-H4``,
    ``YGATAH4`` and ``y_gata_h4`` fold to the same key. ``DYS389II-I`` folds to
    ``DYS389IIMINUSI`` (the minus is kept as a word, so it differs from ``DYS389II``).

    >>> normalize_name(" DYS389 I ")
    'DYS389I'
    >>> normalize_name("DYS389II-I")
    'DYS389IIMINUSI'
    """
    text = name.strip().upper()
    text = re.sub(r"(?<=II)\s*[-−–]\s*I$", "MINUSI", text)
    return re.sub(r"[^A-Z0-9]", "", text)


class UnknownLocusError(InputError, KeyError):
    """A locus name that the catalog does not know; ``suggestion`` is the nearest known name.

    An :class:`~patriline.errors.InputError` (and a ``KeyError`` for look-up callers)."""

    def __init__(self, name: str, suggestion: str | None) -> None:
        self.name = name
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion}?)" if suggestion else ""
        super().__init__(
            f"unknown locus {truncate(repr(name))}{hint}", locus=name, suggestion=suggestion
        )


class UnknownKitError(InputError, KeyError):
    """A kit name that the catalog does not know (an :class:`~patriline.errors.InputError`,
    and a ``KeyError``)."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        known = sorted(known)
        super().__init__(
            f"unknown kit {truncate(repr(name))}; known kits: {', '.join(known)}",
            field="kit",
            value=name,
            known=known,
        )


@dataclass(frozen=True)
class Locus:
    """One Y-STR locus of the catalog.

    ``rate`` is the mutation rate per father-son transmission: for ``rate_basis ==
    "per_copy"`` each copy mutates at this rate, for ``"per_locus"`` it is the rate of
    the locus as a whole (all copies together). ``mutations``/``meioses`` are the
    observed counts behind the rate, or None where the source gives only a rate.
    """

    name: str
    display: str
    aliases: tuple[str, ...]
    repeat_unit: int
    copies: int
    allele_min: int
    allele_max: int
    mutations: int | None
    meioses: int | None
    rate: float
    rate_basis: str
    rate_source: str
    range_source: str
    notes: str = ""

    @property
    def multi_copy(self) -> bool:
        return self.copies > 1

    @property
    def copy_rate(self) -> float:
        """Mutation rate of one copy: the locus rate split over copies as 1-(1-μ)^(1/n)."""
        if self.rate_basis == "per_copy" or self.copies == 1:
            return self.rate
        return 1.0 - (1.0 - self.rate) ** (1.0 / self.copies)

    @property
    def locus_rate(self) -> float:
        """Probability that at least one copy mutates in one transmission."""
        if self.rate_basis == "per_locus" or self.copies == 1:
            return self.rate
        return 1.0 - (1.0 - self.rate) ** self.copies

    def rate_counts(self) -> tuple[float, float, bool]:
        """(mutations, meioses, observed) behind the copy rate.

        Where the source gives counts they are returned as observed. Otherwise the rate
        is turned into pseudo-counts over :data:`BALLANTYNE_2010_MEIOSES_PER_MARKER`
        meioses and ``observed`` is False.
        """
        if self.mutations is not None and self.meioses is not None:
            if self.rate_basis == "per_copy" or self.copies == 1:
                return float(self.mutations), float(self.meioses), True
            # Counts for all copies together: spread over copies.
            return float(self.mutations) / self.copies, float(self.meioses), True
        n = float(BALLANTYNE_2010_MEIOSES_PER_MARKER)
        return self.copy_rate * n, n, False

    def rate_posterior(self) -> stats.rv_continuous:
        """Beta posterior of the per-copy rate under a Jeffreys prior Beta(1/2, 1/2).

        Returns a frozen ``scipy.stats.beta``. Where the source gives no counts the
        posterior uses the pseudo-counts of :meth:`rate_counts` (a stated assumption).
        """
        from scipy import stats

        k, n, _ = self.rate_counts()
        return stats.beta(k + 0.5, n - k + 0.5)

    def rate_interval(self, level: float = 0.95) -> tuple[float, float]:
        """Equal-tailed credible interval of the per-copy rate."""
        post = self.rate_posterior()
        a = (1.0 - level) / 2.0
        return float(post.ppf(a)), float(post.ppf(1.0 - a))


@dataclass(frozen=True)
class Kit:
    """A typing kit: an identifier and its loci (multi-copy loci listed once)."""

    id: str
    name: str
    loci: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    source: str = ""
    #: The marker count as the manufacturer states it (Yfiler Plus: 27, DYS385a/b and
    #: DYF387S1a/b counted twice); None for user kits that do not say.
    markers: int | None = None

    def n_columns(self, catalog: Catalog) -> int:
        """Number of allele columns (locus copies) the kit types."""
        return sum(catalog.locus(n).copies for n in self.loci)


@dataclass(frozen=True)
class ColumnRef:
    """What a column header in a lab file means.

    ``kind`` is ``"allele"`` (an allele of ``locus``; ``copy`` is the 0-based copy for
    headers like ``DYS385a``, else None) or ``"dys389_difference"`` (DYS389II minus
    DYS389I, converted to the full DYS389II on input).
    """

    locus: str
    copy: int | None = None
    kind: str = "allele"


@dataclass
class Catalog:
    """Loci and kits, with lookups that accept the spellings labs use."""

    loci: dict[str, Locus]
    kits: dict[str, Kit]
    _locus_keys: dict[str, str] = field(default_factory=dict, repr=False)
    _kit_keys: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for locus in self.loci.values():
            for spelling in (locus.name, locus.display, *locus.aliases):
                self._locus_keys.setdefault(normalize_name(spelling), locus.name)
        for kit in self.kits.values():
            self._register_kit_keys(kit)

    def _register_kit_keys(self, kit: Kit) -> None:
        for spelling in (kit.id, kit.name, *kit.aliases):
            self._kit_keys[_kit_key(spelling)] = kit.id

    # -- loci -----------------------------------------------------------------------
    def locus(self, name: str) -> Locus:
        """The locus a spelling means; raises :class:`UnknownLocusError` with a suggestion."""
        key = normalize_name(name)
        if key in self._locus_keys:
            return self.loci[self._locus_keys[key]]
        raise UnknownLocusError(name, self.suggest(name))

    def suggest(self, name: str) -> str | None:
        """The nearest known locus name for a near-miss spelling, or None."""
        key = normalize_name(name)
        if not key:
            return None
        close = difflib.get_close_matches(key, list(self._locus_keys), n=1, cutoff=0.75)
        return self.loci[self._locus_keys[close[0]]].name if close else None

    def resolve_column(self, header: str) -> ColumnRef:
        """Interpret a column header: a locus, one copy of a multi-copy locus, or DYS389II-I."""
        key = normalize_name(header)
        if key in _DYS389_DIFFERENCE_NAMES:
            return ColumnRef("DYS389II", None, "dys389_difference")
        if key in self._locus_keys:
            return ColumnRef(self._locus_keys[key])
        # One copy of a multi-copy locus: DYS385a, DYS385_b, DYF399S1c, DYF387S1-A ...
        m = re.fullmatch(r"(.+?)([A-C])", key)
        if m and m.group(1) in self._locus_keys:
            locus = self.loci[self._locus_keys[m.group(1)]]
            copy = "ABC".index(m.group(2))
            if locus.multi_copy and copy < locus.copies:
                return ColumnRef(locus.name, copy)
        raise UnknownLocusError(header, self.suggest(header))

    def is_locus(self, header: str) -> bool:
        try:
            self.resolve_column(header)
        except UnknownLocusError:
            return False
        return True

    # -- kits -----------------------------------------------------------------------
    def kit(self, name: str) -> Kit:
        """The kit an identifier or alias means (case-insensitive)."""
        key = _kit_key(name)
        if key in self._kit_keys:
            return self.kits[self._kit_keys[key]]
        raise UnknownKitError(name, self.kits)

    def add_kit(self, kit: Kit) -> Kit:
        """Register a user kit; its loci must be catalog loci. Returns the kit with canonical names."""
        names = tuple(self.locus(n).name for n in kit.loci)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"kit {kit.id!r} lists a locus twice: {', '.join(dup)}")
        if not names:
            raise ValueError(f"kit {kit.id!r} has no loci")
        kit = Kit(kit.id, kit.name or kit.id, names, kit.aliases, kit.source, kit.markers)
        self.kits[kit.id] = kit
        self._register_kit_keys(kit)
        return kit

    def load_kit_file(self, path: str | Path) -> list[Kit]:
        """Add kits from a small TOML file (tables like ``data/kits.toml``) or a CSV file.

        The CSV form has one row per locus with columns ``kit,locus`` (optional ``name``).
        """
        path = Path(path)
        text = path.read_text(encoding="utf-8-sig")
        if path.suffix.lower() == ".toml":
            try:
                kits = _kits_from_toml(tomllib.loads(text))
            except (tomllib.TOMLDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: not a valid kit file: {exc}") from exc
        else:
            rows = list(csv.DictReader(io.StringIO(text)))
            if not rows or not {"kit", "locus"} <= set(rows[0]):
                raise ValueError(f"{path}: a kit CSV needs the columns 'kit' and 'locus'")
            grouped: dict[str, list[str]] = {}
            names: dict[str, str] = {}
            for row in rows:
                grouped.setdefault(row["kit"].strip(), []).append(row["locus"].strip())
                names.setdefault(row["kit"].strip(), (row.get("name") or "").strip())
            kits = [Kit(k, names[k] or k, tuple(v), (), str(path)) for k, v in grouped.items()]
        added = []
        for kit in kits:
            try:
                added.append(self.add_kit(kit))
            except UnknownLocusError as exc:
                raise ValueError(f"{path}: kit {kit.id!r}: {exc}") from exc
        return added

    def kit_for_loci(self, loci: Iterable[str]) -> Kit | None:
        """The smallest catalog kit that types every one of ``loci``, or None."""
        wanted = {self.locus(n).name for n in loci}
        fits = [k for k in self.kits.values() if wanted <= set(k.loci)]
        return min(fits, key=lambda k: len(k.loci)) if fits else None

    @property
    def all_loci(self) -> tuple[str, ...]:
        """Every catalog locus in catalog order (the order of ``data/loci.csv``)."""
        return tuple(self.loci)


def _kit_key(name: str) -> str:
    return re.sub(r"[^a-z0-9+]", "", name.strip().lower())


def _kits_from_toml(doc: Mapping[str, object]) -> list[Kit]:
    kits = []
    for kit_id, body in doc.items():
        if not isinstance(body, dict):
            raise TypeError(f"[{kit_id}] must be a table")
        kits.append(
            Kit(
                id=kit_id,
                name=str(body.get("name", kit_id)),
                loci=tuple(body["loci"]),
                aliases=tuple(body.get("aliases", ())),
                source=str(body.get("source", "")),
                markers=int(body["markers"]) if "markers" in body else None,
            )
        )
    return kits


def _int_or_none(text: str) -> int | None:
    return int(text) if text.strip() else None


def _load_loci(text: str) -> dict[str, Locus]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    loci: dict[str, Locus] = {}
    for row in csv.DictReader(lines):
        locus = Locus(
            name=row["name"],
            display=row["display"],
            aliases=tuple(a for a in row["aliases"].split("|") if a),
            repeat_unit=int(row["repeat_unit"]),
            copies=int(row["copies"]),
            allele_min=int(row["allele_min"]),
            allele_max=int(row["allele_max"]),
            mutations=_int_or_none(row["mutations"]),
            meioses=_int_or_none(row["meioses"]),
            rate=float(row["rate"]),
            rate_basis=row["rate_basis"],
            rate_source=row["rate_source"],
            range_source=row["range_source"],
            notes=row["notes"],
        )
        loci[locus.name] = locus
    return loci


@functools.lru_cache(maxsize=1)
def _default_data() -> tuple[dict[str, Locus], list[Kit]]:
    data = resources.files("patriline.reference") / "data"
    loci = _load_loci((data / "loci.csv").read_text(encoding="utf-8"))
    kits = _kits_from_toml(tomllib.loads((data / "kits.toml").read_text(encoding="utf-8")))
    return loci, kits


def default_catalog() -> Catalog:
    """A fresh catalog of the shipped loci and kits (user kits added to it stay local to it)."""
    loci, kits = _default_data()
    catalog = Catalog(dict(loci), {})
    for kit in kits:
        catalog.add_kit(kit)
    return catalog
