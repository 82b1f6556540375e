"""The paternal link between two persons: one type for the readers, the pedigree engine
and the store (which keeps it in ``paternal_links``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Link"]


@dataclass(frozen=True)
class Link:
    """``son``'s recorded father is ``father`` (person IDs).

    ``source`` says where the link comes from (church register, interview, ...);
    ``confidence`` is the registrar's confidence in ``[0, 1]`` (None: not stated; the
    store records 1.0); ``line`` is the 1-based line of the file the link was read from,
    when read from one. Links read from the store carry their recorded source and
    confidence and no line.
    """

    son: str
    father: str
    source: str | None = None
    confidence: float | None = None
    line: int | None = None
