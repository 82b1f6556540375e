"""The CLI speaking to a lab server (``patriline --server URL --token-file F …``).

With a server the acting user is the token's owner, authenticated by the server, and
the audit entries it writes say ``via: service``; ``--user`` is refused (the server
never takes the acting user from a request). A command with a route (cases, approval
requests, search, audit, transparency, tokens, users) calls it; any other command would
open a local store, and is refused rather than run against the wrong database.

The server's errors come back in the one error shape (``{"error": {"code", "message",
"details"}}``) and are raised here as the same :mod:`patriline.errors` classes, so the
exit codes are those of a local run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from patriline.errors import (
    AccessDenied,
    ConflictError,
    InputError,
    NotFound,
    PatrilineError,
    StoreUnavailable,
)

__all__ = ["Remote", "configure", "current", "error_from"]

_CURRENT: Remote | None = None


class ServerError(PatrilineError):
    """The server failed (5xx) or answered something that is not the error shape."""

    exit_code = 70
    http_status = 502
    code = "server_error"


_BY_STATUS: dict[int, type[PatrilineError]] = {
    400: InputError,
    401: AccessDenied,
    403: AccessDenied,
    404: NotFound,
    409: ConflictError,
    422: InputError,
    429: AccessDenied,
}


def error_from(status: int, body: Any) -> PatrilineError:
    """The :mod:`patriline.errors` instance for a server's error answer."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return ServerError(f"server answered HTTP {status} without the error shape")
    message = str(err.get("message") or err.get("code") or f"HTTP {status}")
    raw = err.get("details")
    details: dict[str, Any] = raw if isinstance(raw, dict) else {}
    cls = _by_code().get(str(err.get("code"))) or _BY_STATUS.get(status, ServerError)
    exc = cls.__new__(cls)
    PatrilineError.__init__(exc, message)
    exc.details = dict(details)
    return exc


def _by_code() -> dict[str, type[PatrilineError]]:
    """Every error class by its ``code`` (the most derived one wins)."""
    found: dict[str, type[PatrilineError]] = {}
    todo: list[type[PatrilineError]] = [PatrilineError]
    while todo:
        cls = todo.pop()
        found[cls.code] = cls
        todo.extend(cls.__subclasses__())
    return found


@dataclass
class Remote:
    """A server and a bearer token; :meth:`call` returns the JSON answer."""

    url: str
    token: str
    timeout: float = 120.0

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        import httpx

        base = self.url.rstrip("/") + "/api/v1"
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        try:
            with httpx.Client(base_url=base, headers=headers, timeout=self.timeout) as client:
                r = client.request(method, path, json=json, params=query)
        except httpx.HTTPError as exc:
            raise StoreUnavailable(f"server {self.url} unreachable: {exc}") from None
        if r.status_code == 204:
            return None
        try:
            body = r.json()
        except ValueError:
            body = None
        if r.status_code >= 400:
            raise error_from(r.status_code, body)
        return body

    def pages(self, path: str, params: dict[str, Any] | None = None) -> list[Any]:
        """Every item of a paginated list."""
        items: list[Any] = []
        offset = 0
        while True:
            got = self.call("GET", path, params={**(params or {}), "offset": offset, "limit": 500})
            items.extend(got["items"])
            offset += len(got["items"])
            if not got["items"] or offset >= got["total"]:
                return items


def _token(token_file: Path | None) -> str:
    if token_file is None:
        env = os.environ.get("PATRILINE_TOKEN")
        if env:
            return env.strip()
        named = os.environ.get("PATRILINE_TOKEN_FILE")
        if not named:
            raise InputError(
                "a server needs a token: --token-file FILE, PATRILINE_TOKEN_FILE or "
                "PATRILINE_TOKEN (create one with `patriline token create`)",
                field="token_file",
            )
        token_file = Path(named)
    try:
        text = token_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InputError(
            f"token file {token_file}: {exc.strerror or exc}", field="token_file"
        ) from None
    if not text:
        raise InputError(f"token file {token_file} is empty", field="token_file")
    return text


def configure(server: str | None, token_file: Path | None) -> None:
    """Set (or clear) the server of this CLI run (``--server``, else ``PATRILINE_SERVER``)."""
    global _CURRENT
    url = server or os.environ.get("PATRILINE_SERVER") or None
    if not url:
        _CURRENT = None
        return
    if not url.startswith(("http://", "https://")):
        raise InputError(f"server {url!r}: give an http(s):// URL", field="server")
    _CURRENT = Remote(url, _token(token_file))


def current() -> Remote | None:
    """The server of this run, or None for a local store."""
    return _CURRENT
