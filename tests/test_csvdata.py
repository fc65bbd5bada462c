"""Tests of bpexp.csvdata.load_csv: a good round trip and one-line errors for bad files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bpexp.csvdata import DataError, load_csv


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(path, inputs=("a", "b"), targets=("y",), **kw) -> str:
    """The message of the DataError raised by load_csv; checks it is one line naming the file."""
    with pytest.raises(DataError) as info:
        load_csv(path, list(inputs), list(targets), **kw)
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in msg and str(path) in msg, msg
    return msg


def test_round_trip_exact(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((50, 4)), columns=["a", "b", "c", "y"])
    frame["c"] = np.arange(50)  # integers are read as floats
    path = tmp_path / "good.csv"
    frame.to_csv(path, index=False)
    X, Y = load_csv(path, ["c", "a"], ["y"])
    assert X.dtype == Y.dtype == np.float64
    assert X.flags.c_contiguous and Y.flags.c_contiguous
    assert X.shape == (50, 2) and Y.shape == (50, 1)
    np.testing.assert_array_equal(X, frame[["c", "a"]].to_numpy(dtype=float))
    np.testing.assert_array_equal(Y[:, 0], frame["y"].to_numpy())


def test_delimiters_spaces_blank_lines_quotes_and_bom(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_bytes('\ufeffa ;"b";y\n1; 2 ;3\n\n"4";5e1;-6\n\n'.encode())
    X, Y = load_csv(str(path), ["a", "b"], ["y"], delimiter=";")
    np.testing.assert_array_equal(X, [[1, 2], [4, 50]])
    np.testing.assert_array_equal(Y, [[3], [-6]])
    tab = write(tmp_path, "a\tb\ty\n1\t2\t3\n", "tab.tsv")
    X, Y = load_csv(tab, "a", "y", delimiter="\t")  # a single string is one column
    assert X.shape == (1, 1) and Y.tolist() == [[3.0]]


def test_missing_file_and_directory(tmp_path):
    assert "no such file" in error(tmp_path / "nope.csv")
    assert "not a file" in error(tmp_path)


@pytest.mark.parametrize("text", ["", "\n\n", "  \n"])
def test_empty_file(tmp_path, text):
    assert "empty" in error(write(tmp_path, text))


def test_header_only_and_no_header(tmp_path):
    assert "no data rows" in error(write(tmp_path, "a,b,y\n"))
    msg = error(write(tmp_path, "1,2,3\n4,5,6\n", "nohead.csv"))
    assert "no header" in msg and "line 1" in msg


def test_missing_column_named_with_available(tmp_path):
    msg = error(write(tmp_path, "a,b,t\n1,2,3\n"))
    assert "'y'" in msg and "available: a, b, t" in msg


@pytest.mark.parametrize(
    ("cell", "problem"),
    [("abc", "non-numeric value 'abc'"), ("", "missing"), ("nan", "missing value 'nan'"),
     ("NA", "missing value 'NA'"), ("inf", "non-finite value 'inf'"),
     ("-Infinity", "non-finite"), ("1,5", "")],
)
def test_bad_values_name_column_and_line(tmp_path, cell, problem):
    if cell == "1,5":  # a quoted field with a comma inside is one non-numeric value
        cell, problem = '"1,5"', "non-numeric value '1,5'"
    path = write(tmp_path, f"a,b,y\n1,2,3\n\n4,{cell},6\n7,8,9\n")
    msg = error(path)
    assert problem in msg and "column 'b'" in msg and "line 4" in msg, msg


def test_bad_value_counts_more(tmp_path):
    msg = error(write(tmp_path, "a,b,y\n1,x,3\n4,x,6\n"))
    assert "line 2" in msg and "1 more" in msg


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [("a,b,y\n1,2,3\n4,5,6,7\n", 3, 4), ("a,b,y\n1,2,3\n\n4,5\n", 4, 2),
     ("a,b,y\n1,2\n1,2,3\n", 2, 2)],
)
def test_ragged_rows(tmp_path, text, line, fields):
    msg = error(write(tmp_path, text))
    assert "ragged" in msg and f"line {line} has {fields} fields" in msg, msg


@pytest.mark.parametrize(
    ("inputs", "targets", "problem"),
    [([], ["y"], "inputs must name at least one column"),
     (["a"], [], "targets must name at least one column"),
     (["a", "y"], ["y"], "both input and target: y"),
     (["a", "a"], ["y"], "duplicate column(s) in inputs: a"),
     (["a"], ["y", "y"], "duplicate column(s) in targets: y"),
     ([1, 2], ["y"], "list of column names")],
)
def test_bad_column_lists(tmp_path, inputs, targets, problem):
    path = write(tmp_path, "a,b,y\n1,2,3\n")
    assert problem in error(path, inputs, targets)


def test_duplicate_header_and_empty_name(tmp_path):
    assert "duplicate column 'a'" in error(write(tmp_path, "a,b,a,y\n1,2,3,4\n"))
    assert "empty column name" in error(write(tmp_path, "a,,y\n1,2,3\n", "e.csv"))


@pytest.mark.parametrize("delimiter", ["", ";;", "\n", 3])
def test_bad_delimiter(tmp_path, delimiter):
    path = write(tmp_path, "a,b,y\n1,2,3\n")
    assert "delimiter" in error(path, delimiter=delimiter)


def test_not_utf8(tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"a,b,y\n\xff\xfe,1,2\n")
    assert "UTF-8" in error(path)
