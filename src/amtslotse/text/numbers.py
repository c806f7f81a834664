"""Numbers written in text that a program reads: ids in URLs, header values.

    >>> integer("42"), integer("²"), integer("4 2"), integer("")
    (42, None, None, None)
"""

from __future__ import annotations


def integer(text: str) -> int | None:
    """The number `text` writes in ASCII digits, else None ("²".isdigit() is True, int("²") fails)."""
    return int(text) if text.isascii() and text.isdigit() else None
