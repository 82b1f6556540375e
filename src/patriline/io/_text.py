"""Turning a file's bytes into text and rows: encodings, BOMs, delimiters, binary garbage.

Lab files come from Excel (UTF-16 "Unicode text", UTF-8 with a byte-order mark, ``;``
delimiters under European locales, CRLF line ends) and from GeneMapper (tab-separated).
Everything here reports a :class:`~patriline.io.model.Problem` naming the file and line
rather than raising a decoding traceback.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
from collections.abc import Iterator
from pathlib import Path

from patriline.io.model import Problem, ReadError

__all__ = ["decode_bytes", "header_line", "iter_rows", "no_gc", "read_text", "sniff_delimiter"]

#: Share of control characters above which decoded text is taken for binary data.
_BINARY_SHARE = 0.02


def _fatal(path: str, line: int | None, reason: str) -> ReadError:
    return ReadError(Problem(path, line, reason))


def decode_bytes(data: bytes, path: str) -> str:
    """Decode a text file as labs save it; raise :class:`ReadError` naming the problem.

    Accepts UTF-8 (with or without BOM) and UTF-16 with a BOM (Excel's "Unicode text").
    Binary data and other encodings (Latin-1, Windows-1252) are reported, with the line
    of the first undecodable byte for the latter.
    """
    if not data.strip():
        raise _fatal(path, None, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _fatal(path, None, f"broken UTF-16 text ({exc.reason})") from None
    elif len(data) >= 4 and data[1:4:2] == b"\x00\x00" and data[0:4:2] != b"\x00\x00":
        try:  # UTF-16-LE without a BOM
            text = data.decode("utf-16-le")
        except UnicodeDecodeError:
            raise _fatal(path, None, "not a text file (binary data)") from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if _looks_binary(data[:4096]):
                raise _fatal(path, None, "not a text file (binary data)") from None
            line = data.count(b"\n", 0, exc.start) + 1
            raise _fatal(
                path,
                line,
                f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded "
                "(wrong encoding, e.g. Latin-1/Windows-1252; save the file as UTF-8, "
                "in Excel 'CSV UTF-8')",
            ) from None
    if _looks_binary(text[:4096]):
        raise _fatal(path, None, "not a text file (binary data)")
    return text.lstrip("\ufeff")


def _looks_binary(sample: bytes | str) -> bool:
    if isinstance(sample, bytes):
        if b"\x00" in sample:
            return True
        sample = sample.decode("latin-1")
    if "\x00" in sample:
        return True
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n\f")
    return controls > _BINARY_SHARE * max(len(sample), 1)


def read_text(path: str | Path) -> str:
    """The decoded text of ``path`` (see :func:`decode_bytes`)."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise _fatal(name, None, "file not found") from None
    except IsADirectoryError:
        raise _fatal(name, None, "is a directory, not a file") from None
    except OSError as exc:
        raise _fatal(name, None, f"cannot read: {exc.strerror}") from None
    return decode_bytes(data, name)


def sniff_delimiter(header_line: str, default: str = ",") -> str:
    """Tab if the header has one, else ``;`` or ``,`` whichever occurs more often;
    ``default`` for a one-column header."""
    if "\t" in header_line:
        return "\t"
    semi, comma = header_line.count(";"), header_line.count(",")
    if semi == comma == 0:
        return default
    return ";" if semi > comma else ","


def header_line(text: str) -> str:
    """The first non-blank line of ``text`` (without splitting the whole text)."""
    pos = 0
    while pos < len(text):
        nl = text.find("\n", pos)
        end = len(text) if nl < 0 else nl
        line = text[pos:end].rstrip("\r")
        if line.strip():
            return line
        pos = end + 1
    return ""


def iter_rows(text: str, delimiter: str, path: str) -> Iterator[tuple[int, list[str]]]:
    """``(line, cells)`` for every non-blank row; cells stripped of spaces and quotes."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            start = line
            line = reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            yield start, [c.strip() for c in cells]
    except csv.Error as exc:
        raise _fatal(path, line, split_reason(exc)) from None


def split_reason(exc: csv.Error) -> str:
    """Why the csv module could not split a line, in words a lab can act on."""
    text = str(exc)
    if "field larger than field limit" in text:
        return (
            f"cannot split the line into cells: a cell runs on for more than "
            f"{csv.field_size_limit()} characters (a quote opened here and never closed?)"
        )
    return f"cannot split the line into cells: {text}"


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a reader allocates millions of rows.

    The readers create no reference cycles; without this, CPython's generational
    collector rescans the growing list of records again and again (a 3-4x slow-down on a
    million rows).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
