"""What every reader returns: records, and problems that name file, line, locus and value."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from patriline.errors import InputError, truncate
from patriline.haplotype import Haplotype

if TYPE_CHECKING:
    from patriline.reference import Catalog, Kit

__all__ = ["Format", "Problem", "ReadError", "ReadResult", "Reader", "Record", "Writer"]


@dataclass(frozen=True)
class Record:
    """One specimen read from a file.

    ``line`` is the 1-based line of the file where the specimen's data start;
    ``person`` links the specimen to a registry person (None: the specimen ID doubles
    as the person ID); ``fields`` keeps non-locus columns (category, agency ...).
    """

    specimen: str
    haplotype: Haplotype
    line: int
    kit: str | None = None
    person: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """Why an input row was rejected: every field that helps a person find and fix it."""

    file: str
    line: int | None
    reason: str
    column: str | None = None
    specimen: str | None = None
    locus: str | None = None
    value: str | None = None
    suggestion: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        parts = [where]
        if self.specimen:
            parts.append(f"specimen {truncate(self.specimen)}")
        if self.column and self.column != self.locus:
            parts.append(f"column {self.column!r}")
        if self.locus:
            parts.append(f"locus {self.locus}")
        if self.value is not None:
            parts.append(f"value {truncate(repr(self.value))}")
        text = ", ".join(parts) + f": {self.reason}"
        if self.suggestion:
            text += f" (did you mean {self.suggestion}?)"
        return text

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ReadError(InputError):
    """Strict reading stopped at the first problem."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem), **problem.to_dict())


@dataclass
class ReadResult:
    """Records accepted and problems found. ``rows`` counts every input row (specimen) seen:
    ``rows == len(records) + len(rejected specimens)`` -- nothing is silently dropped."""

    file: str
    format: str
    rows: int
    records: list[Record]
    problems: list[Problem]

    @property
    def accepted(self) -> int:
        return len(self.records)

    @property
    def rejected_rows(self) -> int:
        return self.rows - len(self.records)


class Reader(Protocol):
    """What every format's reader is (:func:`patriline.io.read` picks one by format):
    ``text`` is the file's text when the caller has read it already (None: read ``path``).
    """

    def __call__(
        self,
        path: str | Path,
        *,
        strict: bool = True,
        catalog: Catalog,
        kit: Kit | None = None,
        text: str | None = None,
    ) -> ReadResult: ...


class Writer(Protocol):
    """What every format's writer is (:func:`patriline.io.write` picks one by format):
    returns how many records were written."""

    def __call__(
        self,
        records: Sequence[Record],
        path: str | Path,
        *,
        loci: Iterable[str] | None = None,
        catalog: Catalog,
    ) -> int: ...


@dataclass(frozen=True)
class Format:
    """One file format, as its module declares it (``FORMAT = Format(...)``) and the
    registry (:mod:`patriline.io.formats`) lists it.

    ``name`` is the canonical name (``--format``); ``aliases`` other names accepted for
    it; ``patterns`` glob patterns on the lower-cased file name that select it when
    reading and writing (``"*.json"``); ``sniff(text)`` tells from a file's text that it
    is this format (None: never by content). ``read``/``write`` are the reader and writer.
    """

    name: str
    read: Reader
    write: Writer
    aliases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    sniff: Callable[[str], bool] | None = None
    description: str = ""
