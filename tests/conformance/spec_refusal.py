"""Which check the spec's receive step refuses a message by, named as the code names it.

The spec's semantics only says *that* a receive pattern does not match.  To compare refusals
(issue 18 §1: a refusal by the code names the same check as the spec's step that fails), this
module walks the pattern against the message the way :func:`ethvoip.spec.terms.match` does,
but collects every place the message leaves the pattern, each named by the
:class:`~ethvoip.spec.errors.Check` a receiver makes there:

* a constructor, tuple arity, constant or sort that differs: ``decode`` (the bytes do not
  have the record's form);
* a ciphertext under another key, or a ciphertext nobody built (an opaque field the intruder
  made up, ``sealed<n>#e``): ``decrypt``; a ``senc`` under a derived ``h(...)`` key (MIKEY's
  KEMAC) is checked by its MAC: ``mac``.  A receiver cannot look inside what it cannot open,
  so nothing below is a failure of its own;
* a signature under another key, or over another body (any difference inside it: the
  receiver recomputes the signed bytes and verifies), or made up: ``signature``;
* a value that differs from the one the run holds: a nonce ``nonce_match``; a name
  ``identity_binding``, except the dialog's peer at a step with the ``dialog_binding`` check
  (STS message 1), which is ``dialog_binding``.

When several places fail, the receiver reports the first check it makes.  The precedence is
the code's order, written down here (:data:`DEFAULT_ORDER`, :data:`ORDER` for the steps whose
code checks in another order) and held by the differential tests: a code that checks in
another order disagrees.  The order within one rank is the message's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ethvoip.spec.checknames import DIALOG_BINDING
from ethvoip.spec.errors import Check
from ethvoip.spec.evaluate import INTRUDER_SUFFIX
from ethvoip.spec.protocol import Recv, Role
from ethvoip.spec.terms import (
    AEnc,
    Atom,
    Hash,
    SEnc,
    Sign,
    Sort,
    Term,
    Tup,
    Var,
    match,
    sort_of,
    substitute,
    variables,
)

#: The prefix of an atom standing for an opaque field the intruder made up (a ciphertext or
#: signature no one built): it opens to nothing, verifies under no key.
SEALED = "sealed"


@dataclass(frozen=True)
class Failure:
    """One place a message leaves a receive pattern: the check that fails there."""

    check: Check
    where: str  # the variable, or the pattern's subterm, the message differs at
    own: bool = False  # the value is the receiver's own name (the message is for another)


#: The code's order of checks at a receive step: a :class:`Failure` takes the rank of the
#: first entry it fits (``check`` or ``check:own``, the receiver's own name).
DEFAULT_ORDER: tuple[str, ...] = (
    "decode",  # strict decoding of the record comes first everywhere
    "decrypt",  # then the layer is opened; what is inside is read after
    "identity_binding:own",  # addressed to this agent (STS and MIKEY R_1 read B before A)
    "identity_binding|nonce_match",  # echoes and names, in the message's order
    "dialog_binding",
    "signature",  # last: the signed bytes are rebuilt from values checked before
    "mac",
)

#: Steps whose code checks in another order, (protocol, variant, label) -> order.
ORDER: dict[tuple[str, str, str], tuple[str, ...]] = {
    # impl/handshake/mikey.py (the media codec's order): IDi before SIGNi, then PKE, the
    # KEMAC and IDr last
    ("mikey_key_transport", "hardened", "R_3"): (
        "decode",
        "identity_binding",
        "signature",
        "decrypt",
        "mac",
        "identity_binding:own",
    ),
}


def _rank(order: tuple[str, ...], f: Failure) -> int:
    names = [f"{f.check.value}:own", f.check.value] if f.own else [f.check.value]
    for name in names:  # the receiver's own name ranks as such where the order says
        for i, entry in enumerate(order):
            if name in entry.split("|"):
                return i
    raise AssertionError(f"{f.check.value} is in no rank of {order}")


def expected_check(
    protocol: str,
    variant: str,
    role: Role,
    step: Recv,
    bindings: dict[Term, Term],
    msg: Term,
    moved: Callable[[Term], bool] = lambda _: False,
) -> Failure | None:
    """The check the receiver of ``msg`` at ``step`` reports, ``None`` if the pattern fits.
    ``moved``: whether a ciphertext was cut out of another message's record, whose tag its
    AEAD authenticates (the spec's ``senc`` has no associated data): it does not open."""
    env = {k: v for k, v in bindings.items() if isinstance(k, Var)}
    pattern = substitute(step.pattern, {k: v for k, v in bindings.items() if k not in env})
    walk = _Walk(role, step, env, moved)
    walk.go(pattern, msg)
    if not walk.failures:
        return None
    order = ORDER.get((protocol, variant, step.label), DEFAULT_ORDER)
    return min(enumerate(walk.failures), key=lambda f: (_rank(order, f[1]), f[0]))[1]


class _Walk:
    """One pass of a pattern over a message, collecting :class:`Failure` s."""

    def __init__(
        self, role: Role, step: Recv, env: dict[Var, Term], moved: Callable[[Term], bool]
    ) -> None:
        self.role, self.step, self.env, self.moved = role, step, env, moved
        self.failures: list[Failure] = []
        self.received: Tup | None = None  # the innermost tuple being read

    def _signs_received(self, t: Sign) -> bool:
        """Whether ``t`` signs the very message it ends (a tag and the fields before it,
        as MIKEY's SIGNi): the receiver verifies it over the bytes it got, so a field that
        differs from the run's is refused by that field's own check, not the signature's."""
        r = self.received
        return (
            r is not None
            and r.items[-1] == t
            and isinstance(t.body, Tup)
            and t.body.items[1:] == r.items[:-1]
        )

    def fail(self, check: Check, where: Term | str, own: bool = False) -> None:
        self.failures.append(Failure(check, str(where), own))

    def fits(self, p: Term, t: Term) -> bool:
        """Whether ``t`` fits ``p`` (binding as it goes), collecting nothing."""
        got = match(p, t, self.env)
        if got is None:
            return False
        self.env.update(got)
        return True

    def go(self, p: Term, t: Term) -> None:
        if isinstance(p, Var):
            self._var(p, t)
            return
        inst = substitute(p, self.env)
        if not variables(inst) and inst == t:
            return
        if isinstance(inst, (AEnc, SEnc)):
            self._sealed(inst, t)
        elif isinstance(inst, Sign):
            if not isinstance(t, Sign):
                sealed = isinstance(t, Atom) and t.name.startswith(SEALED)
                self.fail(Check.SIGNATURE if sealed else Check.DECODE, inst)
            elif not self.fits(inst.key, t.key):
                self.fail(Check.SIGNATURE, inst.key)
            elif not (self._signs_received(t) or self.fits(inst, t)):
                self.fail(Check.SIGNATURE, inst)
        elif isinstance(inst, Tup):
            if not isinstance(t, Tup) or len(t.items) != len(inst.items):
                self.fail(Check.DECODE, "tup")
                return
            self.received = t
            for pi, ti in zip(p.items if isinstance(p, Tup) else inst.items, t.items, strict=True):
                self.go(pi, ti)
        elif isinstance(inst, Atom) and not variables(inst):
            self._value(inst, inst, t)
        else:  # another constructor where a plain value is read: the record's form
            self.fail(Check.DECODE, inst)

    def _sealed(self, p: AEnc | SEnc, t: Term) -> None:
        derived = isinstance(substitute(p.key, self.env), Hash)
        if type(t) is not type(p):
            sealed = isinstance(t, Atom) and t.name.startswith(SEALED)
            if not sealed:
                self.fail(Check.DECODE, p)
                return
            self.fail(Check.MAC if derived else Check.DECRYPT, p)
            return
        assert isinstance(t, (AEnc, SEnc))
        if self.moved(t):
            self.fail(Check.DECRYPT, p)
            return
        if not self.fits(p.key, t.key):
            self.fail(Check.MAC if derived else Check.DECRYPT, p.key)
            return
        self.go(p.body, t.body)

    def _var(self, v: Var, t: Term) -> None:
        if v in self.env:
            if self.env[v] != t:
                self._value(v, self.env[v], t)
            return
        if v.sort is not Sort.MSG and sort_of(t) is not v.sort:
            self.fail(Check.DECODE, f"{v.name} (sort)")
            return
        self.env[v] = t

    def _value(self, where: Term, want: Term, got: Term) -> None:
        """``got`` where the run holds ``want`` (a bound variable, or a value of its own)."""
        if (isinstance(want, Atom) and want.sort is Sort.CONST) or sort_of(got) is not sort_of(
            want
        ):
            self.fail(Check.DECODE, where)
        elif sort_of(want) is Sort.NONCE:
            self.fail(Check.NONCE_MATCH, where)
        elif sort_of(want) is Sort.AGENT:
            own = where == self.role.agent  # the variable, not its value: A may be bound to b
            dialog = (
                DIALOG_BINDING in self.step.checks
                and isinstance(where, Var)
                and where in self.role.params
                and not own
            )
            if dialog:
                self.fail(Check.DIALOG_BINDING, where)
            else:
                self.fail(Check.IDENTITY_BINDING, where, own=own)
        else:
            self.fail(Check.DECODE, where)


def sealed_atom(n: int) -> Atom:
    """An opaque field the intruder made up (see :data:`SEALED`)."""
    return Atom(f"{SEALED}{n}{INTRUDER_SUFFIX}", Sort.MSG)
