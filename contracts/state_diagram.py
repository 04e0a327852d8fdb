"""Draws docs/contracts-states.svg: the life cycle of one KeyStore record (offline, no Graphviz).

Run: ``.venv/bin/python contracts/state_diagram.py``.  The picture is committed; the states
and transitions below are the ones KeyStore.sol implements (tests/chain/test_keystore.py).
"""

from __future__ import annotations

from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "contracts-states.svg"

# state -> (x, y) of the box centre
STATES = {"None": (90, 190), "Pending": (360, 190), "Approved": (680, 190), "Revoked": (360, 370)}
W, H = 130, 44


def _box(name: str) -> str:
    x, y = STATES[name]
    fill = "#e8f4e8" if name == "Approved" else "#f4f4f4"
    return (
        f'<rect x="{x - W / 2}" y="{y - H / 2}" width="{W}" height="{H}" rx="10" '
        f'fill="{fill}" stroke="#333"/>'
        f'<text x="{x}" y="{y + 5}" text-anchor="middle" font-weight="bold">{name}</text>'
    )


def _text(x: float, y: float, s: str, anchor: str = "middle") -> str:
    return f'<text x="{x}" y="{y}" text-anchor="{anchor}" font-size="12">{s}</text>'


def main() -> None:
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="900" height="440" '
        'font-family="sans-serif" font-size="14">',
        '<defs><marker id="a" markerWidth="10" markerHeight="8" refX="9" refY="4" orient="auto">'
        '<path d="M0,0 L10,4 L0,8 z" fill="#333"/></marker></defs>',
    ]
    line = 'stroke="#333" fill="none" marker-end="url(#a)"'
    # None -> Pending (label below the arrow)
    parts.append(f'<path d="M155,190 L293,190" {line}/>')
    parts.append(_text(225, 240, "commit; wait >= min age;"))
    parts.append(_text(225, 256, "register (proof of possession)"))
    # Pending -> Approved
    parts.append(f'<path d="M425,190 L613,190" {line}/>')
    parts.append(_text(520, 160, "approve(keyHash, version)"))
    parts.append(_text(520, 176, "[operator]"))
    # Pending self-loop (replace)
    parts.append(f'<path d="M330,168 C310,100 410,100 390,166" {line}/>')
    parts.append(_text(360, 96, "register again (replaces; version+1)"))
    # Approved self-loop (rotate / recovery)
    parts.append(f'<path d="M650,168 C630,100 730,100 710,166" {line}/>')
    parts.append(_text(680, 62, "rotate [current key's consent + new key's PoP]"))
    parts.append(_text(680, 78, "executeRecovery [operator, after the delay;"))
    parts.append(_text(680, 94, "the current key can cancel meanwhile]"))
    # Pending -> Revoked, Approved -> Revoked
    parts.append(f'<path d="M345,212 L345,346" {line}/>')
    parts.append(_text(335, 285, "revoke / operatorRevoke", "end"))
    parts.append(f'<path d="M680,212 L428,360" {line}/>')
    parts.append(_text(580, 320, "revoke [current key]", "start"))
    parts.append(_text(580, 336, "operatorRevoke [operator]", "start"))
    # Revoked -> Pending
    parts.append(f'<path d="M375,348 L375,214" {line}/>')
    parts.append(_text(385, 285, "register (version+1)", "start"))
    parts.extend(_box(n) for n in STATES if n != "None")
    parts.append(_box("None"))
    parts.append(
        _text(450, 425, "Every transition emits an event; every refusal is a custom error.")
    )
    parts.append("</svg>")
    OUT.write_text("\n".join(parts) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
