"""The paternal pedigree on plain data: person IDs joined by father links.

A :class:`Pedigree` is a forest: every man has at most one recorded father, nobody is
his own father and no chain of fathers returns to where it started. These rules are
checked where links enter (:meth:`Pedigree.check_link`), so readers and the store can
report the file and line of the link that breaks them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Protocol

from patriline.errors import InputError
from patriline.links import Link

__all__ = ["Link", "LinkConflict", "LinkLike", "Pedigree", "as_link"]


class LinkLike(Protocol):
    """Anything with ``son`` and ``father``."""

    @property
    def son(self) -> str: ...

    @property
    def father(self) -> str: ...


def as_link(item: Link | LinkLike | tuple[str, str]) -> Link:
    """A :class:`Link` from a Link, a store link or a ``(son, father)`` pair."""
    if isinstance(item, Link):
        return item
    if isinstance(item, tuple):
        return Link(str(item[0]), str(item[1]))
    return Link(
        item.son,
        item.father,
        getattr(item, "source", None),
        getattr(item, "confidence", None),
    )


class LinkConflict(InputError):
    """A link that would give a man two fathers, make him his own father or close a cycle.

    ``kind`` is ``"self"``, ``"two_fathers"`` or ``"cycle"``; ``detail`` the reason text.
    """

    def __init__(self, kind: str, link: Link, detail: str) -> None:
        self.kind = kind
        self.link = link
        self.detail = detail
        super().__init__(f"link {link.son} -> father {link.father}: {detail}")


class Pedigree:
    """Men (person IDs) with at most one father each; a forest of paternal lineages.

    Parameters
    ----------
    links : iterable of Link, store links or (son, father) pairs
        Father links. Each is checked with :meth:`check_link`; the first bad one raises
        :class:`LinkConflict`. A link given twice (same son and father) is kept once.
    persons : iterable of str
        Men without any link (isolated registry entries) to include as well.

    Examples
    --------
    >>> p = Pedigree([("B", "A"), ("C", "A"), ("D", "B")])
    >>> p.meioses("D", "C")
    3
    """

    def __init__(
        self,
        links: Iterable[Link | LinkLike | tuple[str, str]] = (),
        persons: Iterable[str] = (),
    ) -> None:
        self._father: dict[str, str] = {}
        self._sons: dict[str, list[str]] = {}
        self._persons: dict[str, None] = {}
        self.links: dict[str, Link] = {}
        for p in persons:
            self._persons.setdefault(str(p), None)
        for item in links:
            self.add(as_link(item))

    # -- building -------------------------------------------------------------------
    def check_link(self, link: Link) -> bool:
        """Check ``link`` against the links already here.

        Returns False when the identical link is already recorded (nothing to add),
        True when it can be added; raises :class:`LinkConflict` otherwise.
        """
        if link.son == link.father:
            raise LinkConflict("self", link, "a man cannot be his own father (self-link)")
        known = self._father.get(link.son)
        if known is not None:
            if known == link.father:
                return False
            raise LinkConflict(
                "two_fathers",
                link,
                f"{link.son} already has the father {known} (a son has one father)",
            )
        # Adding son -> father closes a cycle iff son is an ancestor of father (or father).
        chain = [link.father]
        for a in self.ancestors(link.father):
            chain.append(a)
            if a == link.son:
                path = " -> ".join([link.son, *chain])
                raise LinkConflict("cycle", link, f"closes a cycle of fathers: {path}")
        return True

    def add(self, link: Link) -> bool:
        """Check and add ``link``; returns False when it was already recorded."""
        if not self.check_link(link):
            return False
        self._father[link.son] = link.father
        self._sons.setdefault(link.father, []).append(link.son)
        self._persons.setdefault(link.father, None)
        self._persons.setdefault(link.son, None)
        self.links[link.son] = link
        return True

    # -- queries --------------------------------------------------------------------
    def __contains__(self, person: object) -> bool:
        return person in self._persons

    def __iter__(self) -> Iterator[str]:
        return iter(self._persons)

    def __len__(self) -> int:
        return len(self._persons)

    def father(self, person: str) -> str | None:
        return self._father.get(person)

    def sons(self, person: str) -> list[str]:
        return list(self._sons.get(person, ()))

    def ancestors(self, person: str) -> Iterator[str]:
        """Father, grandfather, ... of ``person`` (nearest first)."""
        seen = {person}
        p = self._father.get(person)
        while p is not None and p not in seen:
            seen.add(p)
            yield p
            p = self._father.get(p)

    def descendants(self, person: str, max_generations: int | None = None) -> dict[str, int]:
        """Male-line descendants of ``person`` with their generation below him (1 = sons)."""
        out: dict[str, int] = {}
        queue: deque[tuple[str, int]] = deque([(person, 0)])
        while queue:
            p, g = queue.popleft()
            if max_generations is not None and g >= max_generations:
                continue
            for s in self._sons.get(p, ()):
                if s not in out:
                    out[s] = g + 1
                    queue.append((s, g + 1))
        return out

    def meioses(self, a: str, b: str) -> int | None:
        """Meioses on the paternal path between ``a`` and ``b`` (None: not related here)."""
        depth_a = {a: 0}
        for i, x in enumerate(self.ancestors(a), start=1):
            depth_a[x] = i
        if b in depth_a:
            return depth_a[b]
        for j, y in enumerate(self.ancestors(b), start=1):
            if y in depth_a:
                return depth_a[y] + j
        return None

    def subset(self, persons: Iterable[str]) -> Pedigree:
        """The pedigree restricted to ``persons`` (links between two of them only)."""
        keep = dict.fromkeys(persons)
        links = [self.links[s] for s in keep if s in self.links and self.links[s].father in keep]
        return Pedigree(links, keep)

    def roots(self) -> list[str]:
        """Men with no recorded father (founders of the lineages here)."""
        return [p for p in self._persons if p not in self._father]

    def as_mapping(self) -> Mapping[str, str]:
        """``{son: father}`` (read-only view)."""
        return dict(self._father)
