"""The application layer: every case-bound, authorized, audited use case.

A :class:`Session` is a store and the acting user, whose role is read from the store
(never taken from the caller). Each use case is one module here, and is the only place
that authorizes an action and audits it: the store persists, the engines (``search``,
``stats``, ``pedigree``, ``simulate``) compute on plain data, and the front-ends (CLI,
service) call this layer. ``docs/architecture.md`` has the layers and their contracts.
"""

from __future__ import annotations

from patriline.casework.session import Session

__all__ = ["Session"]
