"""CSV cells a spreadsheet shows as text and never runs as a formula."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(cell: object) -> object:
    """``cell`` as scine writes it to CSV: a string that a spreadsheet would read as a
    formula (it starts with ``= + - @``, a tab or a carriage return and is not a number)
    gets a leading apostrophe; numbers and every other string are written unchanged."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS):
        return cell
    try:
        float(cell)
    except ValueError:
        return "'" + cell
    return cell
