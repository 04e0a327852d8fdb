"""Checks of a protocol description that need no solver.

* Structure (:mod:`ethvoip.spec.structure`): every field has its type, names are safe.
* Well-formedness: labels unique; every variable has one sort; fresh values declared; every
  term a role sends can be built from what it knows at that step; every receive pattern can
  be checked by the role and binds only what the role can extract; look-ups bind a fresh
  public-key variable; claims refer to existing roles, labels and values; every claim has an
  expected verdict.
* Executability: :func:`ethvoip.spec.semantics.honest_run` completes.
* The typed language (:func:`check_typed`): only constructs the model encodes faithfully.
  Every value a receive binds in the honest run has a shape the model encodes (atoms,
  ``pk(agent)``, ``g^(x..)``, hashes and tuples of these: the model gives the variable that
  shape), Diffie-Hellman is over ``g``, keys are keys.
  What falls outside raises :class:`UnsupportedProtocol` ``unsupported: <construct> at
  <role>/<label>``.  :func:`front_end` is the one entry point: the spec checker and the
  model checker both call it, so they accept exactly the same protocols, and a construct
  the model cannot represent never reaches it to come back as "no attack".

A failure raises :class:`MalformedProtocol` naming protocol, variant, role and label.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from ethvoip.spec.deduction import Knowledge
from ethvoip.spec.errors import MalformedProtocol, UnsupportedProtocol
from ethvoip.spec.protocol import (
    AGREEMENTS,
    Claim,
    ClaimKind,
    Lookup,
    Protocol,
    Recv,
    Reveal,
    Role,
    Send,
    Variant,
    Verdict,
)
from ethvoip.spec.semantics import HonestEvent, Run, honest_execution, received_variables
from ethvoip.spec.structure import check_structure, check_variant_structure
from ethvoip.spec.terms import (
    AEnc,
    Atom,
    Exp,
    Fresh,
    G,
    Hash,
    Inv,
    Ltk,
    Pk,
    SEnc,
    Sign,
    Sk,
    Sort,
    Term,
    Tup,
    Var,
    ephemeral,
    fresh_names,
    subterms,
    variables,
)


@dataclass(frozen=True)
class CheckResult:
    """One line of the catalogue check table."""

    protocol: str
    variant: str
    roles: int
    steps: int
    claims: int
    honest_events: int


def check_protocol(p: Protocol, variants: Collection[str] | None = None) -> list[CheckResult]:
    """Run every check on every variant of ``p`` (or those named); the first failure raises."""
    check_structure(p)
    out = []
    for v in p.variants.values():
        if variants is not None and v.name not in variants:
            continue
        with where(p.name, v.name):
            events = front_end(v)
        out.append(
            CheckResult(
                p.name,
                v.name,
                len(v.roles),
                sum(len(r.steps) for r in v.roles),
                len(v.claims),
                len(events),
            )
        )
    return out


@contextlib.contextmanager
def where(protocol: str, variant: str) -> Iterator[None]:
    """Name the protocol and variant in a refusal raised inside (the front end works on a
    variant and does not know which protocol it belongs to)."""
    try:
        yield
    except MalformedProtocol as exc:
        if exc.protocol is not None:
            raise
        parts = [x for x in (exc.variant, exc.role, exc.label) if x]
        prefix = "/".join(parts) + ": " if parts else ""
        message = str(exc).removeprefix(prefix)
        # the same class (a structural fault stays one: MalformedStructure)
        raise type(exc)(
            message, protocol=protocol, variant=variant, role=exc.role, label=exc.label
        ) from exc
    except UnsupportedProtocol as exc:
        raise UnsupportedProtocol(f"{protocol}/{variant}: {exc}") from exc


def front_end(v: Variant) -> list[HonestEvent]:
    """Every check a variant must pass before any claim is decided; its honest run.

    The shape of every field (:mod:`ethvoip.spec.structure`), well-formedness, then
    executability, then the typed language.  Raises :class:`MalformedProtocol` or
    :class:`UnsupportedProtocol`; never returns a half-checked variant.
    """
    check_variant_structure(v)
    check_variant(v)
    runs, events = honest_execution(v)
    check_typed(v, runs)
    return events


#: Sorts whose values the model holds as atoms (a leaf of a message tree).
ATOM_SORTS = frozenset({Sort.AGENT, Sort.NONCE, Sort.KEY, Sort.EXP, Sort.CONST})


def _unsupported(construct: str, role: Role, label: str, why: str = "") -> UnsupportedProtocol:
    where = f"unsupported: {construct} at {role.name}/{label}"
    return UnsupportedProtocol(f"{where} ({why})" if why else where)


def default_shape(t: Term, sort: Sort) -> bool:
    """Whether ground ``t`` has the shape the model gives a received ``sort`` by default: an
    atom, ``pk(agent)`` or ``g^x``."""
    if sort in ATOM_SORTS:
        return isinstance(t, Atom) and t.sort is sort
    if sort is Sort.PUBKEY:
        return isinstance(t, Pk) and _agent_atom(t.owner)
    if sort is Sort.GROUP:
        return isinstance(t, Exp) and t.base == G and len(t.exps) == 1
    return False


def _dh_base(t: Term) -> bool:
    """A Diffie-Hellman base: ``g`` or another public constant (a group generator)."""
    return isinstance(t, Atom) and t.sort is Sort.CONST


def _agent_atom(t: Term) -> bool:
    return isinstance(t, Atom) and t.sort is Sort.AGENT


def _key_owner(t: Term) -> bool:
    """The owner of a key pair: an agent, or the seed of an ephemeral pair."""
    return isinstance(t, Atom) and (t.sort is Sort.AGENT or ephemeral(t))


def representable(t: Term, opaque: bool = False) -> bool:
    """Whether the model can encode a received value of this shape: atoms, ``pk(agent)``,
    ``k(agent, agent)``, ``g`` to a product of exponents, and hashes and tuples of these (a
    derived key ``kdf(N)`` or ``h(N, A)`` takes that shape, a new leaf at every atom).

    ``opaque``: the value is received into a variable of sort ``msg`` (a ticket the role
    forwards without opening); ciphertexts and signatures of such shapes are encoded too.
    """
    match t:
        case Atom(_, sort):
            return sort in ATOM_SORTS
        case Pk(o):
            return _key_owner(o)
        case Ltk(o, p):
            return _agent_atom(o) and _agent_atom(p)
        case Hash(_, args) | Tup(args):
            return all(representable(a, opaque) for a in args)
        case Exp(base, exps):
            return _dh_base(base) and all(isinstance(e, Atom) and e.sort is Sort.EXP for e in exps)
        case SEnc(body, key) if opaque:
            return representable(body, True) and representable(key)
        case AEnc(body, Pk(o)) if opaque:
            return representable(body, True) and _key_owner(o)
        case Sign(body, Sk(o)) if opaque:
            return representable(body, True) and _key_owner(o)
    return False


def _check_construct(t: Term, role: Role, label: str) -> None:
    for s in subterms(t):
        match s:
            case Atom(name, sort) if sort in (Sort.PUBKEY, Sort.GROUP, Sort.MSG):
                raise _unsupported(f"a bare {sort.value} atom {name}", role, label)
            case Exp(base, exps):
                if not _dh_base(base) and not (isinstance(base, Var) and base.sort is Sort.GROUP):
                    raise _unsupported(
                        f"Diffie-Hellman over base {base}, not a public constant", role, label
                    )
                for e in exps:
                    if not isinstance(e, Atom | Var | Fresh) or e.sort is not Sort.EXP:
                        raise _unsupported(f"exponent {e} (not an exp value)", role, label)
            case Pk(o) | Sk(o) if not (
                isinstance(o, Atom | Var | Fresh) and (o.sort is Sort.AGENT or ephemeral(o))
            ):
                raise _unsupported(f"{s}: a key pair of neither an agent nor a seed", role, label)
            case Ltk(o, p) if not all(
                isinstance(x, Atom | Var) and x.sort is Sort.AGENT for x in (o, p)
            ):
                raise _unsupported(f"{s}: a long-term key of a non-agent", role, label)
            case AEnc(_, key) if not (
                isinstance(key, Pk) or (isinstance(key, Var) and key.sort is Sort.PUBKEY)
            ):
                raise _unsupported(f"{s}: public-key encryption under {key}", role, label)
            case Sign(_, key) if not isinstance(key, Sk | Inv):
                raise _unsupported(f"{s}: a signature made with {key}", role, label)


def check_typed(v: Variant, runs: list[Run]) -> None:
    """Refuse what the model's typed encoding cannot represent faithfully.

    ``runs`` are the finished runs of the honest execution.  The model gives a variable a
    receive binds the shape of its honest value (a derived key ``kdf(N)`` becomes
    ``kdf(<any nonce>)``, not an atom: a model that took it for an atom would never let the
    receiver finish, and every claim would hold vacuously); a value of a shape it cannot
    encode is refused here.
    """
    for role in v.roles:
        for t in role.knows:
            _check_construct(t, role, "knows")
        for step in role.steps:
            match step:
                case Send(label, term):
                    _check_construct(term, role, label)
                case Recv(label, pattern, once):
                    for t in (pattern, *once):
                        _check_construct(t, role, label)
                case Lookup(label, name, _):
                    if not (isinstance(name, Atom | Var) and name.sort is Sort.AGENT):
                        raise _unsupported(f"look-up of {name}, not an agent", role, label)
    for run in runs:
        for step, x in received_variables(run):
            value = run.bindings[x]
            if not representable(value, opaque=x.sort is Sort.MSG):
                raise _unsupported(
                    f"{value} received into {x.sort.value} variable {x.name}",
                    run.role,
                    step.label,
                    "the typed model encodes a received value as atoms, pk(agent), "
                    "k(agent, agent), g^x.., and hashes and tuples of these (and, in a "
                    "msg variable, ciphertexts and signatures of these)",
                )


def check_variant(v: Variant) -> None:
    _check_labels(v)
    for role in v.roles:
        _check_role(v, role)
    _check_claims(v)
    _check_reveals(v)
    if v.honest_agents < 2:
        _fail(f"honest_agents must be at least 2, not {v.honest_agents}", v)


def _check_reveals(v: Variant) -> None:
    roles = {r.name: r for r in v.roles}
    for rv in v.reveals:
        if not isinstance(rv, Reveal) or rv.role not in roles:
            _fail(f"reveal {rv} names no role of the variant", v)
        role = roles[rv.role]
        bound: set[Term] = {*role.params, *role.fresh}
        for s in role.steps:
            if isinstance(s, Recv):
                bound |= variables(s.pattern)
            elif isinstance(s, Lookup):
                bound.add(s.key)
        loose = {x for x in subterms(rv.term) if isinstance(x, Var | Fresh)} - bound
        if loose:
            _fail(f"reveal of {rv.term}: {sorted(map(str, loose))} never bound", v, role)


def _fail(msg: str, v: Variant, role: Role | None = None, label: str | None = None) -> None:
    raise MalformedProtocol(msg, variant=v.name, role=role.name if role else None, label=label)


def _check_labels(v: Variant) -> None:
    seen: set[str] = set()
    names = [r.name for r in v.roles]
    if len(set(names)) != len(names):
        _fail(f"role names repeat: {names}", v)
    for role in v.roles:
        for s in role.steps:
            if s.label in seen:
                _fail("label used twice", v, role, s.label)
            if not s.label.startswith(role.name + "_"):
                _fail(f"label must start with the role name {role.name}_", v, role, s.label)
            seen.add(s.label)


def _role_terms(role: Role) -> list[Term]:
    terms: list[Term] = [*role.params, *role.knows]
    for s in role.steps:
        if isinstance(s, Send):
            terms.append(s.term)
        elif isinstance(s, Recv):
            terms.extend((s.pattern, *s.once))
        else:
            terms.extend((s.name, s.key))
    return terms


def _check_role(v: Variant, role: Role) -> None:
    _check_role_params(v, role)
    _check_role_sorts(v, role)
    # a variable of sort msg is a ticket: bound by a receive, forwarded; its honest value's
    # shape is checked by :func:`check_typed`
    know = Knowledge([*role.params, *role.knows, *role.fresh], own=role.agent)
    for p in role.params:
        know.add(Pk(p))
    for t in role.knows:
        if not fresh_names(t) <= set(role.fresh) or not variables(t) <= set(role.params):
            _fail(f"initial knowledge {t} uses values the role does not have", v, role)
    for step in role.steps:
        if isinstance(step, Send):
            _check_send(v, role, step, know)
        elif isinstance(step, Lookup):
            _check_lookup(v, role, step, know)
        else:
            know = _check_recv(v, role, step, know)


def _check_role_params(v: Variant, role: Role) -> None:
    if not role.steps:
        _fail("a role needs at least one step", v, role)
    if role.agent not in role.params:
        _fail(f"the agent variable {role.agent} must be a parameter", v, role)
    for p in role.params:
        if p.sort is not Sort.AGENT:
            _fail(f"parameter {p} must be of sort agent", v, role)


def _check_role_sorts(v: Variant, role: Role) -> None:
    sorts: dict[str, Sort] = {}
    for t in _role_terms(role):
        for s in subterms(t):
            if isinstance(s, Var | Fresh) and sorts.setdefault(s.name, s.sort) is not s.sort:
                _fail(f"{s.name} is used with two sorts", v, role)
            if isinstance(s, Fresh) and s not in role.fresh:
                _fail(f"fresh value {s.name} is not declared", v, role)


def _check_send(v: Variant, role: Role, step: Send, know: Knowledge) -> None:
    if not know.derivable(step.term):
        _fail(f"sends {step.term} which it cannot build", v, role, step.label)


def _check_lookup(v: Variant, role: Role, step: Lookup, know: Knowledge) -> None:
    """A look-up names someone the role knows and binds a new public key (added to ``know``)."""
    if not know.derivable(step.name):
        _fail(f"looks up {step.name} which it does not know", v, role, step.label)
    if step.key.sort is not Sort.PUBKEY or know.derivable(step.key):
        _fail(f"look-up must bind a new pubkey variable, not {step.key}", v, role, step.label)
    know.add(step.key)


def _check_recv(v: Variant, role: Role, step: Recv, know: Knowledge) -> Knowledge:
    """A receive's pattern must be checkable; returns what the role knows after it."""
    after = Knowledge([*know.known(), step.pattern], own=role.agent)
    problem = _uncheckable(step.pattern, know, after)
    if problem is not None:
        _fail(problem, v, role, step.label)
    for t in step.once:
        if not after.derivable(t):
            _fail(f"replay-cache term {t} is not known after the receive", v, role, step.label)
    for x in variables(step.pattern):
        after.add(x)
    return after


def _uncheckable(p: Term, before: Knowledge, after: Knowledge) -> str | None:
    """Why the role could not check pattern ``p`` (``None`` if it can)."""
    match p:
        case Var():
            return None if after.derivable(p) else f"cannot extract {p}"
        case Atom() | Fresh():
            return None if after.derivable(p) or before.derivable(p) else f"cannot compare {p}"
        case Tup(items):
            for i in items:
                r = _uncheckable(i, before, after)
                if r:
                    return r
            return None
        case Sign(body, key):
            pub: Term | None = None
            if isinstance(key, Sk):
                pub = Pk(key.owner)
            elif isinstance(key, Inv):
                pub = key.key
            if pub is None or not after.derivable(pub):
                return f"cannot verify {p}: the public key is not known"
            return _uncheckable(body, before, after)
        case AEnc(body, Pk(owner)) if after.derivable(Sk(owner)):
            return _uncheckable(body, before, after)
        case SEnc(body, key) if after.derivable(key):
            return _uncheckable(body, before, after)
        case AEnc() | SEnc() | Hash() | Exp() | Pk() | Ltk():
            # cannot be opened: it must be recomputable and compared as a whole
            if variables(p) - set(before.known()):
                return f"{p} binds variables inside a part the role cannot open"
            return None if before.derivable(p) else f"cannot recompute {p} to compare it"
    return f"unsupported pattern {p}"


def _check_claims(v: Variant) -> None:
    names = [c.name for c in v.claims]
    if len(set(names)) != len(names):
        _fail(f"claim names repeat: {names}", v)
    _check_expected(v, names)
    role_names = {r.name for r in v.roles}
    for c in v.claims:
        _check_claim(v, c, role_names)


def _check_expected(v: Variant, names: list[str]) -> None:
    """One expectation per claim, each a definite verdict (an attack with its run count)."""
    if set(v.expected) != set(names):
        _fail(f"expected verdicts {sorted(v.expected)} do not match claims {sorted(names)}", v)
    for name, e in v.expected.items():
        if e.verdict is Verdict.UNKNOWN:
            _fail(f"{name}: 'unknown' is not an expectation", v)
        if (e.verdict is Verdict.ATTACK) != (e.runs is not None and e.runs >= 1):
            _fail(f"{name}: an expected attack needs its smallest run count (only)", v)


def _check_claim(v: Variant, c: Claim, role_names: set[str]) -> None:
    if c.role not in role_names:
        _fail(f"claim {c.name} names unknown role {c.role}", v)
    role = v.role(c.role)
    if c.kind in (ClaimKind.SECRECY, ClaimKind.KEY_AGREEMENT) and c.term is None:
        _fail(f"claim {c.name} needs a term", v, role)
    if c.kind is ClaimKind.KEY_AGREEMENT:
        for r in v.roles:
            if r.session_key is None:
                _fail(f"claim {c.name} needs every role to declare its session_key", v, r)
    if c.kind in AGREEMENTS:
        _check_agreement(v, c, role, role_names)


def _check_agreement(v: Variant, c: Claim, role: Role, role_names: set[str]) -> None:
    if c.peer not in role_names or c.peer == c.role:
        _fail(f"claim {c.name} needs another existing role as peer", v, role)
    assert c.peer is not None
    peer = v.role(c.peer)
    if c.kind is not ClaimKind.ALIVENESS and c.peer_at not in peer.labels:
        _fail(f"claim {c.name}: peer_at must be a label of {peer.name}", v, role)
    if len(c.data) != len(c.peer_view):
        _fail(f"claim {c.name}: data and peer_data differ in length", v, role)
    if c.kind in (ClaimKind.ALIVENESS, ClaimKind.WEAK_AGREEMENT) and c.data:
        _fail(f"claim {c.name}: {c.kind.value} takes no data", v, role)
