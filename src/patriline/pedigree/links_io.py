"""Readers for paternal links: CSV (``son,father``), PED and TGF files.

Every reader returns a :class:`LinkReadResult` with the links accepted and a
:class:`patriline.io.Problem` for each row rejected, naming file, line, column and value.
As for haplotype files, ``strict=True`` (the default) stops at the first problem with a
:class:`patriline.io.ReadError`; ``strict=False`` skips bad rows and reports them.

Formats
-------
``csv``
    A header row with ``son`` and ``father`` columns (aliases: ``child``/``individual``/
    ``id`` and ``sire``/``parent``), optional ``source`` and ``confidence`` (a number in
    ``[0, 1]``). Comma, tab or semicolon separated.
``ped``
    The linkage PED layout used by the Male Pedigree Toolbox and MatchY: whitespace
    separated ``family individual father mother sex [more columns]``; ``0`` is an unknown
    parent; sex ``1`` male, ``2`` female, ``0`` unknown. Only male-line links are taken:
    a row of a man (sex 1, or 0 when he is someone's father in the file) with a known
    father. Rows of women are counted and skipped (they carry no Y link). Person IDs are
    the ``individual`` column (IDs must be unique across families). ``#`` starts a comment.
``tgf``
    Trivial Graph Format: node lines ``id [label]``, a line ``#``, then edge lines
    ``father son [label]`` (an edge points from father to son; its label, if any, is
    the link's source). Person IDs are the node IDs.

Every link is checked against the links already known and those accepted before it: a
self-link, a son with two fathers and a link that closes a cycle are rejected
(:class:`patriline.pedigree.model.LinkConflict`). The links known are given whole
(``existing``) or fetched for the file's own sons and fathers (``recorded``, e.g.
:func:`patriline.store.links.links_to_check`: the sons' recorded links and the chains
of fathers above the fathers), which gives the same verdicts at the cost of the file,
not of the registry.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from patriline.errors import InputError
from patriline.ids import id_problem
from patriline.io.model import Problem, ReadError
from patriline.pedigree.model import Link, LinkConflict, LinkLike, Pedigree

__all__ = ["FORMATS", "LinkReadResult", "detect_format", "read_links"]

FORMATS = ("csv", "ped", "tgf")

_SON = ("son", "child", "individual", "id", "person")
_FATHER = ("father", "sire", "parent", "father_id")
_UNKNOWN = {"", "0", "NA", "."}


@dataclass
class LinkReadResult:
    """Links accepted and problems found; ``rows`` counts every data row seen."""

    file: str
    format: str
    rows: int
    links: list[Link]
    problems: list[Problem] = field(default_factory=list)
    skipped: int = 0  # rows that carry no male link (women in PED, rows without a father)

    @property
    def accepted(self) -> int:
        return len(self.links)

    def summary(self) -> dict[str, object]:
        """Counts and problems as plain data (the ``--json`` summary)."""
        return {
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "accepted": self.accepted,
            "skipped": self.skipped,
            "rejected": len(self.problems),
            "problems": [p.to_dict() for p in self.problems],
        }


def detect_format(path: Path, text: str) -> str:
    """``ped``/``tgf``/``csv`` from the extension, else from the content."""
    ext = path.suffix.lower().lstrip(".")
    if ext in FORMATS:
        return ext
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "#" in lines:
        return "tgf"
    first = lines[0].lower() if lines else ""
    if any(re.search(rf"\b{w}\b", first) for w in _FATHER):
        return "csv"
    if lines and all(len(ln.split()) >= 5 for ln in lines[:5] if not ln.startswith("#")):
        return "ped"
    raise InputError(
        f"{path}: cannot tell the link format (give --format csv, ped or tgf); "
        "CSV needs a header with 'son' and 'father'"
    )


def read_links(
    path: str | Path,
    *,
    format: str | None = None,
    strict: bool = True,
    existing: Iterable[Link | LinkLike | tuple[str, str]] = (),
    hide_existing: bool = False,
    recorded: Callable[[Sequence[str], Sequence[str]], Iterable[Link | LinkLike]] | None = None,
) -> LinkReadResult:
    """Read paternal links from ``path``.

    Parameters
    ----------
    path : str or Path
        The file.
    format : {"csv", "ped", "tgf"}, optional
        Detected from the extension and content when None.
    strict : bool
        Stop at the first problem (raise :class:`patriline.io.ReadError`) or skip and report.
    existing : iterable of Link or (son, father)
        Links already recorded (the store's); new links are checked against them.
    hide_existing : bool
        Word a conflict with ``existing`` without naming the recorded father or chain of
        fathers (an import must not read the store's links; conflicts within the file
        are still named in full).
    recorded : callable, optional
        Instead of ``existing``: ``recorded(sons, fathers)`` gives the links known that
        the file's links can conflict with, called once with the sons and fathers of
        the file's links: the links of those sons and every link on the chains of
        fathers above those fathers (e.g. ``functools.partial(links_to_check, db)``,
        :func:`patriline.store.links.links_to_check`). The verdicts and messages are
        those of ``existing`` holding every known link.

    Returns
    -------
    LinkReadResult
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    fmt = (format or detect_format(path, text)).lower()
    if fmt not in FORMATS:
        raise InputError(f"{path}: unknown link format {fmt!r} (use one of {', '.join(FORMATS)})")
    parser = {"csv": _parse_csv, "ped": _parse_ped, "tgf": _parse_tgf}[fmt]
    result = LinkReadResult(str(path), fmt, 0, [])
    items: Iterable[Link | Problem | _Skip | _NodeLine] = parser(str(path), text)
    late: InputError | None = None  # a parser error met after rows to check (recorded)
    if recorded is not None:
        if existing != ():
            raise InputError("read_links: give existing or recorded, not both")
        items, late = _parse_all(items)
        new = [x for x in items if isinstance(x, Link)]
        existing = recorded([x.son for x in new], [x.father for x in new])
    try:
        pedigree = Pedigree(existing)
    except LinkConflict as exc:  # the store's own links are inconsistent: not this file's fault
        raise InputError(f"the links already recorded are inconsistent: {exc}") from None
    own = Pedigree([])  # the file's accepted links alone, to word conflicts with ``existing``

    def problem(p: Problem) -> None:
        if strict:
            raise ReadError(p)
        result.problems.append(p)

    for item in items:
        if isinstance(item, _Skip):
            result.rows += 1
            result.skipped += 1
            continue
        if isinstance(item, _NodeLine):
            continue
        if isinstance(item, Problem):
            result.rows += 1
            problem(item)
            continue
        result.rows += 1
        bad_id = next(
            ((c, v, w) for c, v in (("son", item.son), ("father", item.father))
             if (w := id_problem(v, "person ID")) is not None),
            None,
        )  # fmt: skip
        if bad_id is not None:
            problem(Problem(str(path), item.line, bad_id[2], column=bad_id[0], value=bad_id[1]))
            continue
        try:
            if pedigree.add(item):
                result.links.append(item)
                own.add(item)
            else:
                result.skipped += 1  # the same link again: nothing new
        except LinkConflict as exc:
            column = "son" if exc.kind == "two_fathers" else "father"
            value = item.son if column == "son" else item.father
            detail = exc.detail
            if hide_existing:
                try:
                    own.check_link(item)
                except LinkConflict as within:
                    detail = within.detail  # a conflict within the file itself
                else:
                    detail = _HIDDEN[exc.kind]
            problem(Problem(str(path), item.line, detail, column=column, value=value))
    if late is not None:
        raise late
    return result


def _parse_all(
    items: Iterable[Link | Problem | _Skip | _NodeLine],
) -> tuple[list[Link | Problem | _Skip | _NodeLine], InputError | None]:
    """Every row of a parser, and the error that ended it (raised after the rows before
    it are checked, so a strict read stops at the same place as row by row)."""
    out: list[Link | Problem | _Skip | _NodeLine] = []
    try:
        for item in items:
            out.append(item)
    except InputError as exc:
        return out, exc
    return out, None


_HIDDEN = {
    "self": "a man cannot be his own father (self-link)",
    "two_fathers": "the son already has another father in the links recorded "
    "(a son has one father; recorded links are shown only by an expansion in a case)",
    "cycle": "closes a cycle of fathers through the links recorded "
    "(recorded links are shown only by an expansion in a case)",
}


@dataclass(frozen=True)
class _Skip:
    line: int


@dataclass(frozen=True)
class _NodeLine:
    line: int


def _parse_csv(file: str, text: str) -> Iterator[Link | Problem | _Skip]:
    first = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader, None)
    if header is None:
        raise InputError(f"{file}: empty file")
    names = [h.strip().lower() for h in header]
    son_col = next((names.index(n) for n in _SON if n in names), None)
    father_col = next((names.index(n) for n in _FATHER if n in names), None)
    if son_col is None or father_col is None:
        raise InputError(
            f"{file}:1: a link CSV needs the columns 'son' and 'father' (found {', '.join(header)})"
        )
    source_col = names.index("source") if "source" in names else None
    conf_col = names.index("confidence") if "confidence" in names else None
    for row in reader:
        line = reader.line_num
        if not any(c.strip() for c in row):
            continue
        cells = [c.strip() for c in row] + [""] * (len(names) - len(row))
        son, father = cells[son_col], cells[father_col]
        if not son:
            yield Problem(file, line, "no son ID", column="son", value=son)
            continue
        if father in _UNKNOWN:
            yield _Skip(line)
            continue
        confidence: float | None = None
        if conf_col is not None and cells[conf_col]:
            raw = cells[conf_col]
            try:
                confidence = float(raw)
            except ValueError:
                confidence = None
            if confidence is None or not 0.0 <= confidence <= 1.0:
                yield Problem(
                    file, line, "confidence must be a number in [0, 1]", "confidence", value=raw
                )
                continue
        source = (cells[source_col] or None) if source_col is not None else None
        yield Link(son, father, source, confidence, line)


def _parse_ped(file: str, text: str) -> Iterator[Link | Problem | _Skip]:
    rows: list[tuple[int, list[str]]] = []
    for i, raw in enumerate(text.splitlines(), start=1):
        content = raw.split("#", 1)[0].strip()
        if content:
            rows.append((i, content.split()))
    fathers = {r[2] for _, r in rows if len(r) >= 5}
    sex_of = {r[1]: r[4] for _, r in rows if len(r) >= 5}
    for line, cols in rows:
        if len(cols) < 5:
            yield Problem(
                file,
                line,
                f"a PED row needs family, individual, father, mother, sex (found {len(cols)} columns)",
                value=" ".join(cols),
            )
            continue
        _family, person, father, _mother, sex = cols[:5]
        if sex not in ("0", "1", "2"):
            yield Problem(file, line, "sex must be 1 (male), 2 (female) or 0", "sex", value=sex)
            continue
        if sex == "2" or (sex == "0" and person not in fathers):
            yield _Skip(line)  # not a known male: no Y-chromosome link
            continue
        if father in _UNKNOWN:
            yield _Skip(line)
            continue
        if sex_of.get(father) == "2":
            yield Problem(
                file, line, "the father is recorded as female (sex 2)", "father", value=father
            )
            continue
        yield Link(person, father, None, None, line)


def _parse_tgf(file: str, text: str) -> Iterator[Link | Problem | _Skip | _NodeLine]:
    nodes: set[str] = set()
    in_edges = False
    for line, raw in enumerate(text.splitlines(), start=1):
        content = raw.strip()
        if not content:
            continue
        if content == "#":
            if in_edges:
                yield Problem(file, line, "a second '#' line (TGF has one)", value=content)
            in_edges = True
            continue
        parts = content.split(maxsplit=2)
        if not in_edges:
            if parts[0] in nodes:
                yield Problem(file, line, "node declared twice", "node", value=parts[0])
                continue
            nodes.add(parts[0])
            yield _NodeLine(line)
            continue
        if len(parts) < 2:
            yield Problem(file, line, "an edge line needs 'father son'", value=content)
            continue
        father, son = parts[0], parts[1]
        missing = [x for x in (father, son) if x not in nodes]
        if missing:
            yield Problem(
                file,
                line,
                "edge names a node not declared before '#'",
                "father" if missing[0] == father else "son",
                value=missing[0],
            )
            continue
        yield Link(son, father, parts[2] if len(parts) > 2 else None, None, line)
    if not in_edges and nodes:
        raise InputError(f"{file}: no '#' line: a TGF file lists nodes, then '#', then edges")
