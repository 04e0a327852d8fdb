"""The plain-text tables the subcommands print (``check``, ``prove`` and its variants): columns
left-aligned to their widest cell, two spaces apart, a rule of dashes under the header."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(head: Sequence[str], body: Sequence[Sequence[str]], *, fit_last: bool = True) -> str:
    """``head`` and the rows of ``body`` as aligned lines; with ``fit_last`` false the last
    column's rule is only as wide as its header (for a free-text column)."""
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    if not fit_last:
        widths[-1] = len(head[-1])
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in (head, *body)
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
