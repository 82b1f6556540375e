"""The one rule for specimen and person IDs, checked by every reader and by the store.

An ID is 1 to :data:`MAX_ID_LENGTH` characters, all printable: no NUL, no tab or line
end, no other control or separator character (``str.isprintable``). Longer or unprintable
IDs are almost always a broken file (an unclosed quote swallowing lines, a binary file)
and would be unreadable in reports and the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["MAX_ID_LENGTH", "bad_ids", "id_problem"]

#: Longest specimen or person ID accepted (characters).
MAX_ID_LENGTH = 128


def id_problem(value: str, what: str = "specimen ID") -> str | None:
    """Why ``value`` is not a valid ID (``what`` names it in the reason), or None."""
    if len(value) > MAX_ID_LENGTH:
        return f"{what} longer than {MAX_ID_LENGTH} characters ({len(value)})"
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        return f"{what} holds a control or unprintable character ({bad!r})"
    return None


def bad_ids(values: Sequence[str]) -> list[int]:
    """Positions of the values that break the ID rule (fast when none do)."""
    if all(map(str.isprintable, values)) and max(map(len, values), default=0) <= MAX_ID_LENGTH:
        return []
    return [i for i, v in enumerate(values) if id_problem(v) is not None]
