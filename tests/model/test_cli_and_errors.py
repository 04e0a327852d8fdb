"""``ethvoip prove`` (exit codes, matrix, JSON, traces folder), determinism, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethvoip.model.cli import main, prove
from ethvoip.model.search import check_variant
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.catalogue import get
from ethvoip.spec.errors import MalformedProtocol, ModelError, UnsupportedProtocol
from ethvoip.spec.protocol import Claim, ClaimKind, Recv, Role, Send, Variant, agent, holds, var
from ethvoip.spec.terms import Atom, Sort, const, exp, fresh_names, tup

A = agent("A")


def test_prove_exits_zero_when_verdicts_match(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet", "--max-runs", "2", "mikey_key_transport"]) == 0
    out = capsys.readouterr().out
    assert "R_secret_K" in out and "MISMATCH" not in out


def test_prove_exits_one_when_bound_too_small_for_an_expected_attack(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Lowe needs two runs: at bound 1 the expected attack is not found
    assert main(["--quiet", "--max-runs", "1", "psk_handshake/paper"]) == 1
    assert "MISMATCH" in capsys.readouterr().out


def test_prove_json_and_traces_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        [
            "--quiet",
            "--json",
            "--max-runs",
            "1",
            "--traces-dir",
            str(tmp_path),
            "mikey_key_transport/paper",
        ]
    )
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    rows = doc["results"]
    assert {r["claim"] for r in rows} == {
        "I_secret_K",
        "R_secret_K",
        "R_alive",
        "R_weak_agree",
        "R_agree_K",
    }
    for r in rows:
        assert set(r) >= {
            "protocol",
            "variant",
            "claim",
            "expected",
            "verdict",
            "runs",
            "seconds",
            "trace",
        }
        if r["verdict"] == "attack":
            assert tracefmt.from_dict(r["trace"]).claim == r["claim"]
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "mikey_key_transport.paper.honest.json" in names
    assert "mikey_key_transport.paper.R_secret_K.svg" in names
    assert "mikey_key_transport.paper.R_secret_K.txt" in names
    t = tracefmt.load(tmp_path / "mikey_key_transport.paper.R_secret_K.json")
    assert t.generated_by.startswith("ethvoip prove")


@pytest.mark.parametrize("args", [["nosuch"], ["sts/nosuch"], ["--max-runs", "0"]])
def test_prove_rejects_bad_arguments(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet", *args]) == 2
    assert "ethvoip prove" in capsys.readouterr().err


def test_same_verdicts_and_traces_twice() -> None:
    p = get("sts")
    one = [(r.result.verdict, r.result.runs, r.trace) for r in prove(p, "paper", max_runs=2)]
    two = [(r.result.verdict, r.result.runs, r.trace) for r in prove(p, "paper", max_runs=2)]
    assert [x[:2] for x in one] == [x[:2] for x in two]
    dumps = [tracefmt.dumps(t) if t else None for *_, t in one]
    assert dumps == [tracefmt.dumps(t) if t else None for *_, t in two]


def _variant(role: Role) -> Variant:
    c = Claim("c", ClaimKind.SECRECY, role.name, "", term=role.agent)
    return Variant("v", "", (role,), (c,), {"c": holds()})


def test_message_variable_takes_the_shape_of_its_honest_value_or_is_refused() -> None:
    # a msg variable is a ticket (issue 15 §2), typed by its value in the honest run: with
    # no honest value (nobody sends it) the protocol is refused, never given a verdict
    m = var("M", Sort.MSG)
    role = Role("I", A, "", (A,), (), (), (Recv("I_1", tup(const("x"), m)),))
    with pytest.raises(MalformedProtocol, match="honest run cannot complete"):
        check_variant(_variant(role), max_runs=1)


def test_exponentiation_of_something_else_than_g_is_unsupported() -> None:
    role = Role("I", A, "", (A,), (), (), (Send("I_1", exp(const("h"), const("c"))),))
    with pytest.raises(UnsupportedProtocol):
        check_variant(_variant(role), max_runs=1)


def test_bare_public_key_atom_is_unsupported() -> None:
    k = Atom("k", Sort.PUBKEY)
    role = Role("I", A, "", (A,), (k,), (), (Send("I_1", k),))
    with pytest.raises(UnsupportedProtocol, match="pubkey"):
        check_variant(_variant(role), max_runs=1)


def test_bound_below_one_is_refused() -> None:
    with pytest.raises(ModelError):
        check_variant(get("sts").variant("paper"), max_runs=0)


def test_fresh_names_helper_is_unaffected() -> None:
    # the model never mutates spec terms: a protocol's terms are the same after a search
    v = get("sts").variant("paper")
    before = [fresh_names(s.term) for s in v.roles[0].steps if isinstance(s, Send)]
    check_variant(v, max_runs=1)
    assert before == [fresh_names(s.term) for s in v.roles[0].steps if isinstance(s, Send)]


def test_timeout_is_unknown_never_no_attack(monkeypatch: pytest.MonkeyPatch) -> None:
    # z3 gives up (timeout, resource limit, cancel): the answer must be "unknown", with z3's
    # reason, and it must not count as the expected "no attack".  The give-up is injected so
    # that the test never depends on how fast this machine is.
    import z3

    from ethvoip.model import search
    from ethvoip.model.cli import matches
    from ethvoip.spec.catalogue import variant
    from ethvoip.spec.protocol import Verdict

    real = search._solver

    class GivesUp:
        def __init__(self, inner: z3.Solver) -> None:
            self._inner = inner

        def __getattr__(self, name: str) -> object:
            return getattr(self._inner, name)

        def check(self) -> z3.CheckSatResult:
            return z3.unknown

        def reason_unknown(self) -> str:
            return "timeout"

    v = variant("sts", "hardened")
    search.honest_run(v)  # the front end passes first (cached); only the claim's search gives up
    monkeypatch.setattr(search, "_solver", lambda ms, ctx: GivesUp(real(ms, ctx)))
    (result,) = check_variant(v, claims=[v.claim("R_secret_K")], max_runs=2)
    assert result.verdict is Verdict.UNKNOWN
    assert "timeout" in result.reason
    assert not matches(v.expected["R_secret_K"], result)
