"""The negation of each claim kind as a formula over a :class:`~ethvoip.model.encode.World`.

Run 0 of the world is the claiming run ``r`` (runs of one role are interchangeable, and so are
the honest agents ``a`` and ``b``, so ``r`` is taken to be run 0 played by ``a``); the top
worlds of :mod:`.reduce` name another run of the claiming role instead.  The
semantics is the one written in :mod:`ethvoip.spec.protocol`: a claim is made once ``r`` has
executed its last step and every agent ``r`` believes takes part is honest.
"""

from __future__ import annotations

import z3

from ethvoip.model.encode import Run, World
from ethvoip.model.symbolic import Cond, Leaf, conj, disj, eq, implies, leaf_eq, neg
from ethvoip.spec.errors import UnsupportedProtocol
from ethvoip.spec.protocol import Claim, ClaimKind


def _leaf(x: object, what: str) -> Leaf:
    if not isinstance(x, Leaf):
        raise UnsupportedProtocol(f"{what} is not an atom")
    return x


def finished(r: Run) -> Cond:
    d = r.last.moment.done
    assert d is not None
    return d


def honest(w: World, r: Run) -> Cond:
    """Every agent ``r`` believes takes part (the roles' agent variables it binds) is honest."""
    out: list[Cond] = []
    for v in w.variant.agent_vars:
        val = r.value(v.name)
        if val is not None:
            out.append(neg(w.is_e(_leaf(val, f"agent variable {v}"))))
    return conj(out)


def active(w: World, r: Run) -> Cond:
    return conj([finished(r), honest(w, r)])


def _before_end(w: World, s: Run, index: int, r: Run) -> Cond:
    m, end = s.events[index].moment, r.last.moment
    assert m.done is not None and m.time is not None and end.time is not None
    if s is r:
        return m.done if index < len(r.events) else False
    return conj([m.done, m.time < end.time])


def _peer_index(w: World, claim: Claim) -> int:
    assert claim.peer is not None
    peer = w.variant.role(claim.peer)
    if claim.peer_at is None:
        return len(peer.steps) - 1
    return peer.labels.index(claim.peer_at)


def partner(w: World, claim: Claim, r: Run, s: Run) -> Cond:
    """Run ``s`` of the peer role agrees with claiming run ``r`` (weak or non-injective)."""
    assert claim.peer is not None
    claimant_role = w.variant.role(claim.role)
    peer_role = w.variant.role(claim.peer)
    k = _peer_index(w, claim)
    who = r.value(peer_role.agent.name)
    believed = s.value(claimant_role.agent.name, upto=k)
    if who is None or believed is None:
        return False
    conds: list[Cond] = [
        leaf_eq(s.actor, _leaf(who, "peer agent")),
        leaf_eq(_leaf(believed, "peer's belief"), r.actor),
        _before_end(w, s, k, r),
    ]
    if claim.kind in (ClaimKind.NI_AGREEMENT, ClaimKind.I_AGREEMENT):
        if len(claim.data) != len(claim.peer_view):
            raise UnsupportedProtocol(f"claim {claim.name}: data and peer_data differ in length")
        for mine, theirs in zip(claim.data, claim.peer_view, strict=True):
            a = w.value(r, mine)
            bv = w.value(s, theirs, upto=k)
            if a is None:
                raise UnsupportedProtocol(f"claim {claim.name}: {mine} unbound in {claim.role}")
            if bv is None:
                return False  # not yet bound by the peer at peer_at: it does not agree
            conds.append(eq(a, bv))
    return conj(conds)


def violation(w: World, claim: Claim, r: Run | None = None) -> Cond:
    """A formula satisfied exactly by the bounded executions that break ``claim`` at run
    ``r`` (default run 0; any run of the claiming role will do, they are interchangeable)."""
    r = w.runs[0] if r is None else r
    if r.role.name != claim.role:
        raise AssertionError("the claiming run must play the claiming role")
    base = [active(w, r), leaf_eq(r.actor, w.agent["a"])]
    match claim.kind:
        case ClaimKind.SECRECY:
            if claim.term is None:
                raise UnsupportedProtocol(f"claim {claim.name}: secrecy of nothing")
            t = w.value(r, claim.term)
            if t is None:
                raise UnsupportedProtocol(f"claim {claim.name}: {claim.term} never bound")
            return conj([*base, w.derive_at_end(t)])
        case ClaimKind.ALIVENESS:
            assert claim.peer is not None
            who = r.value(w.variant.role(claim.peer).agent.name)
            if who is None:
                raise UnsupportedProtocol(f"claim {claim.name}: peer agent unknown to {r.role}")
            alive = disj(
                conj([leaf_eq(s.actor, _leaf(who, "peer")), _before_end(w, s, 0, r)])
                for s in w.runs
            )
            return conj([*base, neg(alive)])
        case ClaimKind.WEAK_AGREEMENT | ClaimKind.NI_AGREEMENT:
            ok = disj(
                partner(w, claim, r, s) for s in w.runs if s is not r and s.role.name == claim.peer
            )
            return conj([*base, neg(ok)])
        case ClaimKind.I_AGREEMENT:
            return conj([*base, _no_injective_matching(w, claim, r)])
        case ClaimKind.KEY_AGREEMENT:
            return conj([*base, _key_share(w, claim, r)])
    raise UnsupportedProtocol(f"claim kind {claim.kind}")


def _no_injective_matching(w: World, claim: Claim, claimant: Run) -> Cond:
    """No injective map sends every active claiming run to an agreeing peer run.

    By Hall's theorem such a map exists exactly when every set S of active claiming runs has
    at least |S| agreeing peer runs between them; so none exists exactly when some S has
    fewer.  z3 chooses S (``x``) and a superset of its agreeing peers (``y``), with
    |y| < |S|: a formula linear in claimers times peers, where listing the injective maps
    grows as (peers + 1) to the power claimers (256 formulas for 4 and 3 runs).  S holds
    the claimant: the claiming runs are interchangeable, so any run of a violating S can be
    renamed to be the claimant (and ``a``, by the symmetry of the honest agents).
    """
    claimers = [x for x in w.runs if x.role.name == claim.role]
    peers = [x for x in w.runs if x.role.name == claim.peer]
    tag = f"hall.{claim.name}"
    xs = [z3.Bool(f"{tag}.x{r.rid}", w.ctx) for r in claimers]
    ys = [z3.Bool(f"{tag}.y{s.rid}", w.ctx) for s in peers]
    parts: list[Cond] = []
    for r, x in zip(claimers, xs, strict=True):
        parts.append(x if r is claimant else implies(x, active(w, r)))
        for s, y in zip(peers, ys, strict=True):
            if s is not r:
                parts.append(implies(conj([x, partner(w, claim, r, s)]), y))
    one, zero = z3.IntVal(1, w.ctx), z3.IntVal(0, w.ctx)
    count = [z3.Sum([z3.If(b, one, zero) for b in bs]) if bs else zero for bs in (ys, xs)]
    parts.append(count[0] < count[1])
    return conj(parts)


def _key_share(w: World, claim: Claim, r: Run) -> Cond:
    """Another finished run holds the same key and binds some agent variable differently."""
    if claim.term is None:
        raise UnsupportedProtocol(f"claim {claim.name}: key agreement on nothing")
    mine = w.value(r, claim.term)
    if mine is None:
        raise UnsupportedProtocol(f"claim {claim.name}: {claim.term} never bound")
    out: list[Cond] = []
    for s in w.runs:
        if s is r or s.role.session_key is None:
            continue
        theirs = w.value(s, s.role.session_key)
        if theirs is None:
            continue
        differs: list[Cond] = []
        for v in w.variant.agent_vars:
            a, b = r.value(v.name), s.value(v.name)
            if a is not None and b is not None:
                differs.append(neg(leaf_eq(_leaf(a, "agent"), _leaf(b, "agent"))))
        out.append(conj([finished(s), eq(mine, theirs), disj(differs)]))
    return disj(out)
