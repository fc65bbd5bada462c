"""Load numeric training data from a CSV file with a header line.

Every problem with a file is reported as one line ``"<file>: <problem>"`` raised as
:class:`DataError`. The file is split into fields with the standard ``csv`` module, so that
every ragged line (too many *or* too few fields, which ``pandas.read_csv`` would pad with NaN)
is caught with its line number, and the fields are converted to numbers with pandas.
Line numbers are 1-based lines of the file, the header being line 1.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

#: Field values read as "missing" rather than "non-numeric" (compared case-insensitively).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "-", "?"})


class DataError(ValueError):
    """A data file or data option that cannot be used; the message is a single line."""


def _columns(file: str, what: str, names: object) -> list[str]:
    """``names`` as a non-empty list of distinct column names (a single string is one name)."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise DataError(f"{file}: {what} must be a list of column names, got {names!r}")
    if not names:
        raise DataError(f"{file}: {what} must name at least one column")
    dup = sorted({n for n in names if list(names).count(n) > 1})
    if dup:
        raise DataError(f"{file}: duplicate column(s) in {what}: {', '.join(dup)}")
    return list(names)


def _rows(file: str, delimiter: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data rows (lists of field strings) and the line number where each row starts."""
    try:
        with open(file, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh, delimiter=delimiter)
            records, lines, last = [], [], 0
            for rec in reader:
                if len(rec) > 1 or rec and rec[0].strip():  # skip blank lines
                    records.append(rec)
                    lines.append(last + 1)
                last = reader.line_num
    except UnicodeDecodeError:
        raise DataError(f"{file}: not a UTF-8 text file") from None
    except csv.Error as err:
        raise DataError(f"{file}: line {last + 1}: {err}") from None
    except OSError as err:
        raise DataError(f"{file}: cannot read: {err.strerror or err}") from None
    if not records:
        raise DataError(f"{file}: file is empty")
    header = [h.strip() for h in records[0]]
    if all(_is_number(h) for h in header):
        raise DataError(
            f"{file}: no header: line {lines[0]} looks like data; "
            "the first line must name the columns"
        )
    for i, h in enumerate(header):
        if not h:
            raise DataError(f"{file}: empty column name in the header (field {i + 1})")
        if header.count(h) > 1:
            raise DataError(f"{file}: duplicate column {h!r} in the header")
    rows = records[1:]
    if not rows:
        raise DataError(f"{file}: no data rows after the header")
    for row, line in zip(rows, lines[1:], strict=True):
        if len(row) != len(header):
            raise DataError(
                f"{file}: ragged row: line {line} has {len(row)} fields, "
                f"the header has {len(header)}"
            )
    return header, rows, lines[1:]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numeric(file: str, header: list[str], rows: list[list[str]], names: list[str],
             lines: list[int]) -> np.ndarray:
    """Columns ``names`` of the string rows as a (B, len(names)) float64 array, all finite."""
    out = np.empty((len(rows), len(names)), dtype=np.float64)
    for j, name in enumerate(names):
        k = header.index(name)
        raw = [row[k] for row in rows]  # to_numeric ignores surrounding spaces
        values = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce")
        values = values.to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = bad[0]
            text = raw[i].strip()
            if np.isinf(values[i]):
                problem = f"non-finite value {text!r}"
            elif text.lower() in MISSING:
                problem = f"missing value {text!r}" if text else "missing (empty) value"
            else:
                problem = f"non-numeric value {text!r}"
            more = f" (and {bad.size - 1} more bad value(s) in the column)" if bad.size > 1 else ""
            raise DataError(f"{file}: column {name!r}, line {lines[i]}: {problem}{more}")
        out[:, j] = values
    return out


def load_csv(
    path: str | os.PathLike[str],
    inputs: Sequence[str],
    targets: Sequence[str],
    delimiter: str = ",",
) -> tuple[np.ndarray, np.ndarray]:
    """Read the ``inputs`` and ``targets`` columns of a CSV file with a header line.

    Parameters
    ----------
    path : str or path-like
        A text (UTF-8) file whose first line names the columns; blank lines are skipped.
    inputs, targets : sequence of str
        Disjoint, non-empty lists of distinct column names (a single string is one column).
    delimiter : str
        A single character.

    Returns
    -------
    X : ndarray, shape (B, len(inputs)), float64, C-contiguous
    Y : ndarray, shape (B, len(targets)), float64, C-contiguous
        Rows in file order; every value is finite.

    Raises
    ------
    DataError
        One line ``"<file>: <problem>"`` for any unusable file or column list.
    """
    file = os.fspath(path)
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
        raise DataError(f"{file}: delimiter must be a single character, got {delimiter!r}")
    ins = _columns(file, "inputs", inputs)
    outs = _columns(file, "targets", targets)
    both = [n for n in ins if n in outs]
    if both:
        raise DataError(f"{file}: column(s) used as both input and target: {', '.join(both)}")
    if not os.path.exists(file):
        raise DataError(f"{file}: no such file")
    if not os.path.isfile(file):
        raise DataError(f"{file}: not a file")
    header, rows, lines = _rows(file, delimiter)
    missing = [n for n in ins + outs if n not in header]
    if missing:
        raise DataError(
            f"{file}: no column(s) {', '.join(map(repr, missing))}; "
            f"available: {', '.join(header)}"
        )
    return _numeric(file, header, rows, ins, lines), _numeric(file, header, rows, outs, lines)
