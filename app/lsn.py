"""PostgreSQL LSNs ("16/B374D848") as integers, so they compare and subtract in Python."""

import re
from typing import Final

_LSN: Final = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})")


def parse_lsn(text: str) -> int | None:
    """The LSN's position, or None when the text is not an LSN."""
    match = _LSN.fullmatch(text.strip())
    if match is None:
        return None
    return (int(match[1], 16) << 32) | int(match[2], 16)


def format_lsn(value: int) -> str:
    """Same spelling as PostgreSQL's pg_lsn output."""
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
