"""CSV cells: what a spreadsheet would run as a formula is written as text."""

from __future__ import annotations

import pytest

from scine._spreadsheet import spreadsheet_text


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("+1+2", "'+1+2"),
        ("-m", "'-m"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tx", "'\tx"),
        ("-1.5", "-1.5"),
        ("+3", "+3"),
        ("sim-01", "sim-01"),
        ("", ""),
        (-1.5, -1.5),
        (None, None),
    ],
)
def test_formula_starts_get_an_apostrophe_numbers_do_not(cell: object, written: object) -> None:
    assert spreadsheet_text(cell) == written
