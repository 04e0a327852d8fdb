"""The term language: its two equations, typed matching and the JSON form."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ethvoip.spec.errors import TermError
from ethvoip.spec.terms import (
    Atom,
    G,
    Sk,
    Sort,
    Term,
    Var,
    aenc,
    const,
    exp,
    from_json,
    h,
    inv,
    match,
    pk,
    senc,
    sign,
    sk,
    substitute,
    to_json,
    tup,
)

a, b = Atom("a", Sort.AGENT), Atom("b", Sort.AGENT)
n1, n2 = Atom("n1", Sort.NONCE), Atom("n2", Sort.NONCE)
x, y = Atom("x", Sort.EXP), Atom("y", Sort.EXP)


def test_diffie_hellman_exponents_commute() -> None:
    assert exp(exp(G, x), y) == exp(exp(G, y), x)
    assert exp(exp(G, x), y) != exp(exp(G, x), x)


def test_inverse_of_a_public_key_is_its_private_key() -> None:
    assert inv(pk(a)) == sk(a)
    with pytest.raises(TermError):
        inv(n1)


def test_substitution_normalises_looked_up_keys_and_dh() -> None:
    kv, gy = Var("KA", Sort.PUBKEY), Var("GY", Sort.GROUP)
    assert substitute(sign(n1, inv(kv)), {kv: pk(a)}) == sign(n1, Sk(a))
    assert substitute(exp(gy, x), {gy: exp(G, y)}) == exp(exp(G, x), y)


def test_matching_binds_typed_variables_only() -> None:
    vn, va = Var("N", Sort.NONCE), Var("A", Sort.AGENT)
    pattern = aenc(tup(vn, va), pk(b))
    assert match(pattern, aenc(tup(n1, a), pk(b))) == {vn: n1, va: a}
    assert match(pattern, aenc(tup(a, a), pk(b))) is None  # an agent is not a nonce
    assert match(pattern, aenc(tup(n1, a), pk(a))) is None  # wrong key
    assert match(tup(vn, vn), tup(n1, n2)) is None  # one variable, two values


def test_signature_pattern_checks_the_looked_up_key() -> None:
    kv = Var("KA", Sort.PUBKEY)
    pattern = sign(Var("M", Sort.NONCE), inv(kv))
    assert match(pattern, sign(n1, sk(a)), {kv: pk(a)}) is not None
    assert match(pattern, sign(n1, sk(b)), {kv: pk(a)}) is None


def test_constructors_reject_degenerate_terms() -> None:
    with pytest.raises(TermError):
        tup(a)
    with pytest.raises(TermError):
        h("not an identifier", a)


atoms = st.builds(
    Atom, st.sampled_from(["a", "b", "e", "n#1", "k#2", "x#1"]), st.sampled_from(list(Sort))
)
terms: st.SearchStrategy[Term] = st.recursive(
    atoms | st.just(G) | st.just(const("tag")),
    lambda inner: st.one_of(
        st.builds(pk, inner),
        st.builds(sk, inner),
        st.lists(inner, min_size=2, max_size=4).map(lambda xs: tup(*xs)),
        st.builds(aenc, inner, inner),
        st.builds(sign, inner, inner),
        st.builds(senc, inner, inner),
        st.builds(
            lambda f, xs: h(f, *xs),
            st.sampled_from(["h", "kdf"]),
            st.lists(inner, min_size=1, max_size=3),
        ),
        st.builds(exp, inner, atoms),
    ),
    max_leaves=12,
)


@given(terms)
def test_json_form_round_trips(t: Term) -> None:
    assert from_json(to_json(t)) == t


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["atom", "var", "op", "args", "sort", "fn", "base", "exps", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@given(json_values)
def test_decoding_garbage_raises_only_term_error(obj: object) -> None:
    with contextlib.suppress(TermError):
        from_json(obj)


@given(terms, st.data())
def test_decoding_a_mutated_term_raises_term_error_or_yields_a_term(
    t: Term, data: st.DataObject
) -> None:
    obj = to_json(t)
    key = data.draw(st.sampled_from(sorted(obj)))
    obj[key] = data.draw(json_values)
    with contextlib.suppress(TermError):
        from_json(obj)
