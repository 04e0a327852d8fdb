"""Draws docs/contracts-states.svg: the life cycle of one KeyStore record (offline, no Graphviz).

Run: ``.venv/bin/python contracts/state_diagram.py``.  The picture is committed; the states
and transitions below are the ones KeyStore.sol implements (tests/chain/test_keystore.py).
They are one list, :data:`TRANSITIONS`, so that the drawing can be fed from the life-cycle
table of the model (spec/) instead, once that exists.
"""

from __future__ import annotations

import math
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "contracts-states.svg"

# state -> (x, y) of the box centre
STATES = {
    "None": (110, 200),
    "Approved": (470, 200),
    "Revoked": (470, 430),
    "Suspended": (830, 200),
}
W, H = 130, 44

#: (from, to, label lines, bend): bend is the sideways offset of the arrow's middle (px);
#: from == to draws a loop above the box.
TRANSITIONS: list[tuple[str, str, tuple[str, ...], int]] = [
    (
        "None",
        "Approved",
        (
            "commit; register [the key's Register signature];",
            "approve [operator: key, registrant,",
            "record version]",
        ),
        0,
    ),
    (
        "Approved",
        "Approved",
        (
            "rotate [current key's Rotate + new key's RotateTo]",
            "executeRecovery [operator, after the delay;",
            "the current key can veto meanwhile]",
        ),
        0,
    ),
    ("Approved", "Revoked", ("revoke [current key]",), -40),
    ("Revoked", "Approved", ("register + approve [a NEW key;", "operator: fresh receipt]"), -40),
    ("Approved", "Suspended", ("operatorRevoke [operator: kill switch]",), -30),
    (
        "Suspended",
        "Approved",
        ("executeRecovery [operator, after the delay;", "the suspended key can veto]"),
        -30,
    ),
    ("Suspended", "Revoked", ("revoke [current key]",), -70),
]

NOTES = (
    "A key enters the store once, ever (registration, rotation or recovery): it never returns.",
    "Pending registrations live beside the record (one per key), expire, and block no one.",
    "Every transition emits an event and bumps the version; every refusal is a custom error.",
)


def _box(name: str) -> str:
    x, y = STATES[name]
    fill = "#e8f4e8" if name == "Approved" else "#f4f4f4"
    return (
        f'<rect x="{x - W / 2}" y="{y - H / 2}" width="{W}" height="{H}" rx="10" '
        f'fill="{fill}" stroke="#333"/>'
        f'<text x="{x}" y="{y + 5}" text-anchor="middle" font-weight="bold">{name}</text>'
    )


def _text(x: float, y: float, s: str, anchor: str = "middle") -> str:
    return f'<text x="{x:.0f}" y="{y:.0f}" text-anchor="{anchor}" font-size="12">{s}</text>'


def _edge(x: float, y: float, dx: float, dy: float) -> tuple[float, float]:
    """Where the ray from a box centre in direction (dx, dy) leaves the box."""
    scale = min(
        (W / 2) / abs(dx) if dx else math.inf,
        (H / 2) / abs(dy) if dy else math.inf,
    )
    return x + dx * scale, y + dy * scale


def _arrow(src: str, dst: str, label: tuple[str, ...], bend: int) -> list[str]:
    line = 'stroke="#333" fill="none" marker-end="url(#a)"'
    (x1, y1), (x2, y2) = STATES[src], STATES[dst]
    if src == dst:
        top = y1 - H / 2
        curve = f"C{x1 - 45},{top - 70} {x1 + 45},{top - 70} {x1 + 25},{top}"
        out = [f'<path d="M{x1 - 25},{top} {curve}" {line}/>']
        out += [_text(x1, top - 110 + 16 * i, s) for i, s in enumerate(label)]
        return out
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy)
    nx, ny = -dy / length, dx / length  # the left normal
    mx, my = (x1 + x2) / 2 + nx * bend, (y1 + y2) / 2 + ny * bend
    sx, sy = _edge(x1, y1, mx - x1, my - y1)
    ex, ey = _edge(x2, y2, mx - x2, my - y2)
    out = [f'<path d="M{sx:.0f},{sy:.0f} Q{mx:.0f},{my:.0f} {ex:.0f},{ey:.0f}" {line}/>']
    vertical = abs(dx) < abs(dy)
    side = 1 if bend <= 0 else -1
    if vertical:
        anchor = "end" if (nx * side) > 0 else "start"
        lx = mx + (8 if anchor == "start" else -8)
        out += [_text(lx, my - 8 * len(label) + 16 * i + 4, s, anchor) for i, s in enumerate(label)]
    else:
        above = (ny * bend) <= 0
        ly = my - 10 - 16 * (len(label) - 1) if above else my + 20
        out += [_text(mx, ly + 16 * i, s) for i, s in enumerate(label)]
    return out


def main() -> None:
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="980" height="560" '
        'font-family="sans-serif" font-size="14">',
        '<defs><marker id="a" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#333"/></marker></defs>',
    ]
    for src, dst, label, bend in TRANSITIONS:
        parts.extend(_arrow(src, dst, label, bend))
    parts.extend(_box(n) for n in STATES)
    parts.extend(_text(490, 500 + 18 * i, s) for i, s in enumerate(NOTES))
    parts.append("</svg>")
    OUT.write_text("\n".join(parts) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
