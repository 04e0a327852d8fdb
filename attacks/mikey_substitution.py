"""Key substitution on the paper's SRTP master-key transport (``a=k:``, Fig. 6 and 8).

Model trace ``mikey_key_transport.paper.R_secret_K``: e sends B an INVITE "from A" whose SDP
carries ``a=k:{K'}pk(B)`` for a master key K' of his own choosing.  Nothing in ``a=k:`` says
who made it, so B accepts K' as A's key: e can decrypt (and inject) the whole call.

Hardened (RFC 3830 public-key mode): the same strategy sends a bare ``a=k:`` value where an
I_MESSAGE is required and fails to decode; the natural adaptation, which is what this module
runs against hardened, is e running the honest initiator's code under A's name with his own
key: a well-formed I_MESSAGE for K', signed by e.  B checks SIGNi with A's key from the key
store at ``R_3`` and refuses it.
"""

from __future__ import annotations

from ethvoip.attacks.base import (
    Attack,
    AttackResult,
    Attempt,
    Line,
    last_step,
    load_trace,
    trace_attack,
)
from ethvoip.attacks.world import World
from ethvoip.impl import wire
from ethvoip.impl.handshake import Value, create
from ethvoip.impl.handshake import mikey as mikey_impl
from ethvoip.impl.handshake.machine import Run
from ethvoip.impl.wire import Tag
from ethvoip.spec import checknames as C
from ethvoip.spec.errors import Check

TRACE = "mikey_key_transport.paper.R_secret_K"
CHECK = Check.SIGNATURE


def forged_i_message(world: World) -> tuple[bytes, bytes]:
    """e's best I_MESSAGE "from a" to b: his own key K' and his own signature."""
    a, b = world.phone("a"), world.phone("b")
    env = world.env("e", 99)
    env.name = a  # the IDi e claims; the signing key stays his own
    bindings: dict[str, Value] = {"A": a, "B": b, "KB": world.public_key("b")}
    msg, bound = mikey_impl.hardened_i_3(Run(env, "hardened", bindings))
    k = bound["K"]
    assert isinstance(k, bytes)
    return msg, k


def hardened_attempt() -> Attempt:
    """Run the adapted adversary against a hardened callee; (blocked, by what, narration,
    the check that refused)."""
    world = World(b"ethvoip/mikey_substitution")
    for x in "abe":
        world.directory.register(world.phone(x), world.public_key(x))
    bob = create("mikey_key_transport", "hardened", "R", world.env("b", 1))
    lines = [Line("R_1", "b: R#1", "receives INVITE From: a To: b, sent by e")]
    bob.receive(wire.encode(Tag.MIKEY_INVITE, world.phone("a"), world.phone("b")))
    msg, k = forged_i_message(world)
    lines.append(
        Line("R_3", "b: R#1", f"receives e's I_MESSAGE for K' = {k.hex()[:16]}..., signed by e")
    )
    at = ("R_3", "b: R#1", "REJECTS")
    return last_step(lambda: bob.receive(msg), at, lines, CHECK, "b accepted e's key")


def run() -> AttackResult:
    result = trace_attack("mikey_substitution", load_trace(TRACE), None)
    strategy_rejection = result.blocked_by
    blocked, why, lines, checks = hardened_attempt()
    result.hardened_blocked = blocked
    result.blocked_by = why
    result.checks = checks
    result.hardened_steps = [
        *result.hardened_steps,
        Line("R_3", "b: R#1", f"(the trace's strategy as is was refused: {strategy_rejection})"),
        *lines,
    ]
    return result


ATTACK = Attack(
    "mikey_substitution",
    "mikey_key_transport",
    "a=k: key substitution",
    run,
    checks=(C.MIKEY_SIGNATURE,),
)

if __name__ == "__main__":
    raise SystemExit(ATTACK.main())
