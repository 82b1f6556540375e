"""Numba kernels of the readers (kernels only; the API and checks are in ``encoded.py``).

:func:`scan_wide` tokenizes a wide CSV held as UTF-8 bytes and parses the *happy path*
of every locus cell straight into the ``int16`` encoded columns: whole repeat numbers or
one-digit intermediates, separated by commas, inside the locus's plausible range, with a
valid number of copies. Any other cell (``OL``, ``null``, ``NA``, a duplication, an
impossible value, odd quoting) or a row with the wrong number of cells only *flags* its
row: the caller re-reads flagged rows with the row-wise reader, which applies every rule
and names every problem. So the kernel never decides that a row is bad, only that it is
plainly good.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["scan_wide", "scan_wide_blocks"]

_QUOTE = 34
_SPACE = 32
_TAB = 9
_CR = 13
_LF = 10
_COMMA = 44
_DOT = 46
_MISSING = -1


@numba.njit(cache=True, nogil=True)
def _parse_cell(data, s, e, copies, lo, hi, unit, out, vals):
    """Parse data[s:e] into out[:copies] (``vals``: scratch of 4); 0 missing, 1 value,
    2 not the happy path. A cell is quoted only when its first byte is a quote (as the
    csv module reads it)."""
    quoted = s < e and data[s] == _QUOTE
    # strip spaces
    while s < e and (data[s] == _SPACE or data[s] == _TAB):
        s += 1
    while e > s and (data[e - 1] == _SPACE or data[e - 1] == _TAB):
        e -= 1
    if quoted:
        if e - s < 2 or data[e - 1] != _QUOTE:
            return 2
        s += 1
        e -= 1
        while s < e and data[s] == _SPACE:
            s += 1
        while e > s and data[e - 1] == _SPACE:
            e -= 1
    if s == e:
        for k in range(copies):
            out[k] = _MISSING
        return 0
    k = 0
    i = s
    while i < e:
        while i < e and data[i] == _SPACE:
            i += 1
        whole = 0
        digits = 0
        while i < e and 48 <= data[i] <= 57:
            whole = whole * 10 + (data[i] - 48)
            digits += 1
            i += 1
            if digits > 3:
                return 2
        if digits == 0:
            return 2
        part = 0
        if i < e and data[i] == _DOT:
            i += 1
            if i < e and 48 <= data[i] <= 57:
                part = data[i] - 48
                i += 1
            else:
                return 2
            if i < e and 48 <= data[i] <= 57:
                return 2
        if whole < lo or whole > hi or part >= unit:
            return 2
        if k >= 4:
            return 2
        vals[k] = whole * 10 + part
        k += 1
        while i < e and data[i] == _SPACE:
            i += 1
        if i < e:
            if data[i] != _COMMA:
                return 2
            i += 1
            if i >= e:
                return 2
    if copies == 1:
        if k != 1:
            return 2
        out[0] = vals[0]
        return 1
    if k == 1:
        for c in range(copies):
            out[c] = vals[0]
        return 1
    if k > copies:
        return 2
    for a in range(1, k):  # insertion sort of at most 4 values
        v = vals[a]
        b = a - 1
        while b >= 0 and vals[b] > v:
            vals[b + 1] = vals[b]
            b -= 1
        vals[b + 1] = v
    for c in range(copies):
        out[c] = vals[c] if c < k else _MISSING
    return 1


@numba.njit(cache=True, nogil=True)
def _csv_step(state, c, delim):
    """One byte of the csv module's quoting rules (default dialect: ``"`` quotes a cell
    only as its first character, ``""`` inside a quoted cell is a quote, a quote elsewhere
    is text). States: 0 start of a cell, 1 unquoted cell, 2 quoted cell, 3 a quote inside a
    quoted cell (its end, or the first of ``""``). Line ends are handled by the caller."""
    if state == 2:
        return 3 if c == _QUOTE else 2
    if c == delim:
        return 0
    if state == 0:
        return 2 if c == _QUOTE else 1
    if state == 3:
        return 2 if c == _QUOTE else 1
    return 1


@numba.njit(cache=True, nogil=True)
def _scan_range(data, pos, stop, line, one_line, delim, n_fields, meta_slot, col_out, col_copies, col_lo, col_hi, col_unit, values, flags, line_no, row_start, row_end, id_start, id_end, r0, r_max):  # fmt: skip
    """Scan the records of ``data[pos:stop]`` (the first on line ``line``) into rows
    ``r0 ..`` of the outputs; return the row after the last, ``-1`` when a quoted cell
    runs past ``stop`` (or, with ``one_line``, over a line end) and ``-2`` past ``r_max``.

    Records and cells are cut exactly where the csv module cuts them (:func:`_csv_step`),
    so a quote inside an unquoted cell, or an unbalanced one, moves no boundary the
    row-wise reader would not move; a record over several lines advances ``line`` by
    all of them."""
    tmp = np.empty(8, dtype=np.int64)
    scratch = np.empty(4, dtype=np.int64)
    r = r0
    while pos < stop:
        # one record [pos, eol): up to the first line end outside a quoted cell
        eol = pos
        state = 0
        extra_lines = 0
        while eol < stop:
            c = data[eol]
            if c == _LF:
                if state != 2:
                    break
                if one_line:
                    return -1
                extra_lines += 1
            else:
                state = _csv_step(state, c, delim)
            eol += 1
        if state == 2:
            return -1
        end = eol
        if end > pos and data[end - 1] == _CR:
            end -= 1
        # blank line: only spaces, tabs and delimiters
        blank = True
        for i in range(pos, end):
            c = data[i]
            if c != _SPACE and c != _TAB and c != delim:
                blank = False
                break
        if not blank:
            if r >= r_max:
                return -2
            line_no[r] = line
            row_start[r] = pos
            row_end[r] = end
            field = 0
            s = pos
            i = pos
            st = 0
            bad = False
            while True:
                if i < end:
                    st = _csv_step(st, data[i], delim)
                if i == end or (data[i] == delim and st == 0):
                    if field < n_fields:
                        slot = meta_slot[field]
                        o = col_out[field]
                        if slot >= 0:
                            a, b = s, i
                            quoted = a < b and data[a] == _QUOTE
                            while a < b and (data[a] == _SPACE or data[a] == _TAB):
                                a += 1
                            while b > a and (data[b - 1] == _SPACE or data[b - 1] == _TAB):
                                b -= 1
                            if quoted and b - a >= 2 and data[b - 1] == _QUOTE:
                                a += 1
                                b -= 1
                                while a < b and (data[a] == _SPACE or data[a] == _TAB):
                                    a += 1
                                while b > a and (data[b - 1] == _SPACE or data[b - 1] == _TAB):
                                    b -= 1
                            for q in range(a, b):
                                if data[q] == _QUOTE or data[q] == _LF:
                                    bad = True
                            id_start[slot, r] = a
                            id_end[slot, r] = b
                        else:
                            if o >= 0 or o == -2:
                                copies = col_copies[field]
                                got = _parse_cell(data, s, i, copies, col_lo[field], col_hi[field], col_unit[field], tmp, scratch)  # fmt: skip
                                if got == 2 or (got == 1 and o == -2):
                                    bad = True
                                elif o >= 0:
                                    for c in range(copies):
                                        values[o + c, r] = tmp[c]
                    else:
                        # extra cells must be empty
                        for q in range(s, i):
                            if data[q] != _SPACE and data[q] != _TAB:
                                bad = True
                    field += 1
                    s = i + 1
                    if i == end:
                        break
                i += 1
            if field < n_fields:
                bad = True
            if bad:
                flags[r] = 1
            r += 1
        line += 1 + extra_lines
        pos = eol + 1
    return r


@numba.njit(cache=True, nogil=True)
def _row_outputs(n_out, n_meta, cap, blank):
    """The outputs of the scan for ``cap`` rows: ``(values, flags, line_no, row_start,
    row_end, meta_start, meta_end)``; ``blank``: values MISSING and the rest zero, else
    uninitialised (to be copied over)."""
    if blank:
        return (
            np.full((n_out, cap), _MISSING, dtype=np.int16),
            np.zeros(cap, dtype=np.uint8),
            np.zeros(cap, dtype=np.int64),
            np.zeros(cap, dtype=np.int64),
            np.zeros(cap, dtype=np.int64),
            np.zeros((n_meta, cap), dtype=np.int64),
            np.zeros((n_meta, cap), dtype=np.int64),
        )
    return (
        np.empty((n_out, cap), dtype=np.int16),
        np.empty(cap, dtype=np.uint8),
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty(cap, dtype=np.int64),
        np.empty((n_meta, cap), dtype=np.int64),
        np.empty((n_meta, cap), dtype=np.int64),
    )


@numba.njit(cache=True, nogil=True)
def _line_at(data, pos):
    """The line number (from 1) of byte ``pos``."""
    line = 1
    for i in range(pos):
        if data[i] == _LF:
            line += 1
    return line


@numba.njit(cache=True, nogil=True)
def scan_wide(data, start, delim, n_fields, meta_slot, n_meta, col_out, col_copies, col_lo, col_hi, col_unit, n_out, max_rows):  # fmt: skip
    """Scan rows from byte ``start`` (just after the header line).

    Returns ``(n_rows, values[n_out, :], flags, line_no, row_start, row_end, meta_start,
    meta_end)`` or ``n_rows == -1`` when a quoted cell spans lines (the caller falls back).
    ``col_out[j]``: first output column of field ``j``; ``-1`` not a locus column,
    ``-2`` a locus the layout (or kit) has no column for (a typed cell flags the row).
    ``meta_slot[j] >= 0``: record the byte span of field ``j`` (stripped, unquoted) in
    ``meta_start/meta_end[slot, row]`` (specimen, person, kit and free fields).
    """
    n = data.shape[0]
    values, flags, line_no, row_start, row_end, id_start, id_end = _row_outputs(n_out, n_meta, max_rows, True)  # fmt: skip
    line = _line_at(data, start)
    r = _scan_range(data, start, n, line, False, delim, n_fields, meta_slot, col_out, col_copies, col_lo, col_hi, col_unit, values, flags, line_no, row_start, row_end, id_start, id_end, 0, max_rows)  # fmt: skip
    return r, values, flags, line_no, row_start, row_end, id_start, id_end


@numba.njit(cache=True, nogil=True, parallel=True)
def scan_wide_blocks(data, start, delim, n_fields, meta_slot, n_meta, col_out, col_copies, col_lo, col_hi, col_unit, n_out, n_blocks):  # fmt: skip
    """:func:`scan_wide` over ``n_blocks`` line-aligned blocks scanned in parallel (same
    results). When a quoted cell runs over a line end the blocks cannot be cut safely
    and the whole text is scanned serially as by :func:`scan_wide`."""
    n = data.shape[0]
    line = _line_at(data, start)
    bounds = np.empty(n_blocks + 1, dtype=np.int64)
    bounds[0] = start
    for b in range(1, n_blocks):
        p = start + (n - start) * b // n_blocks
        p = max(p, bounds[b - 1])
        while p < n and data[p - 1] != _LF:
            p += 1
        bounds[b] = p
    bounds[n_blocks] = n
    lfs = np.zeros(n_blocks, dtype=np.int64)
    for b in numba.prange(n_blocks):
        c = 0
        for i in range(bounds[b], bounds[b + 1]):
            if data[i] == _LF:
                c += 1
        lfs[b] = c
    first = np.empty(n_blocks, dtype=np.int64)  # first output row (capacity: LFs + 1)
    lines = np.empty(n_blocks, dtype=np.int64)
    acc = 0
    ln = line
    for b in range(n_blocks):
        first[b] = acc
        lines[b] = ln
        acc += lfs[b] + 1
        ln += lfs[b]
    cap = acc
    values, flags, line_no, row_start, row_end, id_start, id_end = _row_outputs(n_out, n_meta, cap, True)  # fmt: skip
    ends = np.empty(n_blocks, dtype=np.int64)
    for b in numba.prange(n_blocks):
        ends[b] = _scan_range(data, bounds[b], bounds[b + 1], lines[b], True, delim, n_fields, meta_slot, col_out, col_copies, col_lo, col_hi, col_unit, values, flags, line_no, row_start, row_end, id_start, id_end, first[b], first[b] + lfs[b] + 1)  # fmt: skip
    if np.any(ends < 0):
        return scan_wide(data, start, delim, n_fields, meta_slot, n_meta, col_out, col_copies, col_lo, col_hi, col_unit, n_out, cap - n_blocks + 1)  # fmt: skip
    dest = np.empty(n_blocks, dtype=np.int64)
    m = 0
    for b in range(n_blocks):
        dest[b] = m
        m += ends[b] - first[b]
    o_values, o_flags, o_line_no, o_row_start, o_row_end, o_id_start, o_id_end = _row_outputs(n_out, n_meta, m, False)  # fmt: skip
    for b in numba.prange(n_blocks):
        k = ends[b] - first[b]
        s, d = first[b], dest[b]
        o_values[:, d : d + k] = values[:, s : s + k]
        o_flags[d : d + k] = flags[s : s + k]
        o_line_no[d : d + k] = line_no[s : s + k]
        o_row_start[d : d + k] = row_start[s : s + k]
        o_row_end[d : d + k] = row_end[s : s + k]
        o_id_start[:, d : d + k] = id_start[:, s : s + k]
        o_id_end[:, d : d + k] = id_end[:, s : s + k]
    return m, o_values, o_flags, o_line_no, o_row_start, o_row_end, o_id_start, o_id_end
