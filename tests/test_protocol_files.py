"""``ethvoip prove FILE.py`` / ``ethvoip check FILE.py``: a user's protocol file.

Every way a file can fail to be a protocol is one line and its documented exit status
(docs/cli.rst: 2 for a file that is not a protocol file, 1 for a protocol the front end
refuses, 3 for a file the system will not read), leaves nothing in ``sys.modules`` and
nothing beside the file; a good file gets the same output, JSON, traces and charts as a
catalogue protocol, and its attack traces pass the independent evaluator.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from ethvoip.attacks.cli import main
from ethvoip.model.cli import prove_file
from ethvoip.spec import trace as tracefmt
from ethvoip.spec.errors import MalformedProtocol, ProtocolFileError
from ethvoip.spec.evaluate import evaluate
from ethvoip.spec.protocol import Verdict
from ethvoip.spec.userfile import load_protocol
from tests.test_cli_errors import one_line

USAGE, FAILED, ENVIRONMENT = 2, 1, 3

#: A small protocol: A signs a fresh nonce for B under B's key, then (the planted flaw)
#: sends the nonce in clear.  B's secrecy of the nonce falls to one run of A and one of B;
#: B's aliveness of A holds (only A signs with sk(A)).
GOOD = '''
"""A user's protocol, written in the spec language."""

from ethvoip.spec.protocol import (
    Claim, ClaimKind, Protocol, Recv, Role, Send, Variant, agent, attack, fresh, holds, var,
)
from ethvoip.spec.terms import Sort, aenc, pk, sign, sk, tup

A, B = agent("A"), agent("B")
N, vN = fresh("N", Sort.NONCE), var("N", Sort.NONCE)

I = Role("I", A, "sender", (A, B), (sk(A),), (N,), (
    Send("I_1", aenc(sign(tup(B, N), sk(A)), pk(B))),
    Send("I_2", N),
))
R = Role("R", B, "receiver", (B, A), (sk(B),), (), (
    Recv("R_1", aenc(sign(tup(B, vN), sk(A)), pk(B))),
))

PROTOCOL = Protocol(
    name="mine",
    title="a user's protocol",
    source="tests",
    status="broken",
    narration=__doc__,
    variants={
        "v1": Variant(
            "v1",
            "the nonce in clear",
            (I, R),
            (
                Claim("R_secret_N", ClaimKind.SECRECY, "R", "B's nonce", term=vN),
                Claim("R_alive", ClaimKind.ALIVENESS, "R", "A took part", peer="I"),
            ),
            {"R_secret_N": attack(2, "I_2 sends it in clear"), "R_alive": holds("sk(A)")},
        )
    },
)
'''


def _ours() -> set[str]:
    return {m for m in sys.modules if m.startswith("ethvoip_user_protocol_")}


def _write(folder: Path, text: str, name: str = "proto.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    got = capsys.readouterr()
    return status, got.out, got.err


# --- refusals ----------------------------------------------------------------------------

#: file text -> (exit status, what the line says)
BAD_FILES: dict[str, tuple[str, int, str]] = {
    "raises": ("import os\n\nraise RuntimeError('boom')\n", USAGE, "raised RuntimeError at line 3"),
    "syntax": ("PROTOCOL = (\n", USAGE, "raised SyntaxError at line 1"),
    "exits": ("import sys\nsys.exit(4)\n", USAGE, "raised SystemExit at line 2"),
    "imports": ("import no_such_module_here\n", USAGE, "raised ModuleNotFoundError"),
    "no_protocol": ("X = 1\n", USAGE, "defines no PROTOCOL"),
    "not_a_protocol": ("PROTOCOL = {'name': 'x'}\n", USAGE, "PROTOCOL is a dict, not an"),
    "variant_not_a_variant": (
        "from ethvoip.spec.protocol import Protocol\n"
        "PROTOCOL = Protocol('x', 't', 's', 'st', '', {'v': 'not a variant'})\n",
        FAILED,
        "x: variant 'v' is a str, not a Variant",
    ),
    "term_not_a_term": (
        GOOD.replace('Send("I_2", N)', 'Send("I_2", "N")'),
        FAILED,
        "mine/v1/I/I_2: sent term: 'N' is not a term",
    ),
    "unsafe_name": (GOOD.replace('name="mine"', 'name="../mine"'), FAILED, "is not a name"),
    "cannot_build": (
        GOOD.replace('Send("I_2", N)', 'Send("I_2", sk(B))'),
        FAILED,
        "mine/v1/I/I_2: sends sk(B) which it cannot build",
    ),
    "honest_run_stuck": (
        GOOD.replace(
            'Recv("R_1", aenc(sign(tup(B, vN), sk(A)), pk(B))),',
            'Recv("R_1", aenc(sign(tup(B, vN), sk(A)), pk(B))),'
            ' Recv("R_2", aenc(var("Z", Sort.NONCE), pk(B))),',
        ),
        FAILED,
        "mine/v1/R/R_2: honest run cannot complete",
    ),
}


@pytest.mark.parametrize("command", ["prove", "check"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_file_that_is_not_a_good_protocol_is_one_line_and_its_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, case: str
) -> None:
    text, status, says = BAD_FILES[case]
    path = _write(tmp_path, text)
    before = _ours()
    got, out, err = run([command, str(path)], capsys)
    assert got == status
    if command == "check" and status == FAILED and "FAIL " in err:
        assert says in err and "FAILED" in out, err  # check's table, and a FAIL line
    else:
        line = one_line(err, command)
        assert says in line, line
        assert "unexpected" not in line  # a typed error, not a crash
    if status == USAGE:
        assert str(path) in err
        assert _ours() == before  # nothing of a refused file stays imported
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proto.py"]  # no __pycache__


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        ("missing.py", None, "missing.py: no such file"),
        ("proto.txt", "file", "proto.txt: not a .py file"),
        ("folder.py", "folder", "folder.py: not a file"),
        ("missing.py/v1", None, "missing.py: no such file"),
    ],
)
@pytest.mark.parametrize("command", ["prove", "check"])
def test_path_refusals_come_before_any_work(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    name: str,
    make: str | None,
    says: str,
) -> None:
    target = tmp_path / name.split("/")[0]
    if make == "file":
        target.write_text(GOOD, encoding="utf-8")
    elif make == "folder":
        target.mkdir()
    got, _, err = run([command, str(tmp_path / name)], capsys)
    assert got == USAGE
    assert says in one_line(err, command)


def test_an_unreadable_file_is_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, GOOD)
    real = Path.read_bytes

    def refuse(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse)
    got, _, err = run(["prove", str(path)], capsys)
    assert got == ENVIRONMENT
    assert "Permission denied" in one_line(err, "prove")


def test_two_protocols_of_one_name_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GOOD.replace('name="mine"', 'name="sts"'))
    got, _, err = run(["prove", "sts/paper", str(path)], capsys)
    assert got == USAGE
    assert "two different protocols are named 'sts'" in one_line(err, "prove")


def test_an_unknown_variant_of_a_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GOOD)
    got, _, err = run(["prove", f"{path}/v2"], capsys)
    assert got == USAGE
    assert "protocol 'mine' has no variant 'v2' (it has: v1)" in one_line(err, "prove")


def test_load_protocol_errors_are_typed_from_python(tmp_path: Path) -> None:
    with pytest.raises(ProtocolFileError, match="no such file"):
        load_protocol(tmp_path / "none.py")
    with pytest.raises(ProtocolFileError, match="defines no PROTOCOL"):
        load_protocol(_write(tmp_path, "X = 1\n", "x.py"))
    with pytest.raises(MalformedProtocol, match="is not a term"):
        load_protocol(_write(tmp_path, GOOD.replace('Send("I_2", N)', 'Send("I_2", 7)'), "y.py"))


def test_two_files_of_one_stem_are_two_modules(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    p1 = load_protocol(_write(tmp_path / "a", GOOD))
    p2 = load_protocol(_write(tmp_path / "b", GOOD.replace('name="mine"', 'name="other"')))
    assert (p1.name, p2.name) == ("mine", "other")


# --- a good file ---------------------------------------------------------------------------


def test_prove_a_file_prints_json_writes_traces_and_record_and_the_attack_re_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    path = _write(src, GOOD)
    traces, rec = tmp_path / "traces", tmp_path / "record.json"
    args = ["--json", "--quiet", "--max-runs", "2", "--traces-dir", str(traces)]
    got, out, err = run(["prove", *args, "--record", str(rec), str(path)], capsys)
    assert got == 0, err
    record = json.loads(rec.read_text())
    assert record["spec_digests"] == {"mine": load_protocol(path).digest()}
    rows = {r["claim"]: r for r in json.loads(out)["results"]}
    assert (rows["R_secret_N"]["verdict"], rows["R_secret_N"]["runs"]) == ("attack", 2)
    assert rows["R_alive"]["verdict"] == Verdict.NO_ATTACK.value
    assert all(r["protocol"] == "mine" and r["ok"] for r in rows.values())
    assert sorted(p.name for p in traces.iterdir()) == [
        f"mine.v1.{c}.{ext}" for c in ("R_secret_N", "honest") for ext in ("json", "svg", "txt")
    ]
    # the trace is re-checked against the protocol read from the file, by the evaluator
    attack = tracefmt.load(traces / "mine.v1.R_secret_N.json")
    assert evaluate(load_protocol(path), attack).violated
    assert "<svg" in (traces / "mine.v1.R_secret_N.svg").read_text()
    assert sorted(p.name for p in src.iterdir()) == ["proto.py"]  # nothing beside the file


def test_prove_and_check_a_file_as_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GOOD)
    got, out, _ = run(["check", str(path)], capsys)
    assert got == 0
    assert any(line.split()[:2] == ["mine", "v1"] for line in out.splitlines())
    got, out, _ = run(["prove", "--max-runs", "2", f"{path}/v1"], capsys)
    assert got == 0
    assert "2 claims, 0 mismatches" in out


def test_a_wrong_expectation_in_a_file_is_a_mismatch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GOOD.replace('attack(2, "I_2 sends it in clear")', 'holds("?")'))
    got, out, _ = run(["prove", "--max-runs", "2", str(path)], capsys)
    assert got == FAILED
    assert "MISMATCH" in out


def test_prove_file_from_python_runs_the_front_end(tmp_path: Path) -> None:
    rows = prove_file(_write(tmp_path, GOOD), max_runs=2)
    assert {r.claim: r.result.verdict for r in rows} == {
        "R_secret_N": Verdict.ATTACK,
        "R_alive": Verdict.NO_ATTACK,
    }
    stuck = BAD_FILES["honest_run_stuck"][0]
    with pytest.raises(MalformedProtocol, match="R/R_2: honest run cannot complete"):
        prove_file(_write(tmp_path, stuck, "stuck.py"), max_runs=2)


# --- the classics selector ---------------------------------------------------------------


def test_prove_classics_selects_every_classic_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ethvoip.model import cli
    from ethvoip.spec.library import classics

    asked: list[tuple[str, str]] = []

    def fake_prove(p: object, vname: str, **kwargs: object) -> list[object]:
        asked.append((getattr(p, "name", "?"), vname))
        return []

    monkeypatch.setattr(cli, "prove", fake_prove)
    monkeypatch.setattr(cli, "honest_trace", lambda *a, **k: None)
    assert cli.main(["--quiet", "--classics"]) == 0
    assert asked == [(p.name, v) for p in classics().values() for v in p.variants]
    out = capsys.readouterr().out
    assert "life cycle" not in out  # --classics alone: not the key life cycle either
    asked.clear()
    assert cli.main(["--quiet", "--classics", "sts/paper"]) == 0
    assert asked[0] == ("sts", "paper") and len(asked) == 1 + len(
        [v for p in classics().values() for v in p.variants]
    )


def test_check_classics_checks_every_classic(capsys: pytest.CaptureFixture[str]) -> None:
    from ethvoip.spec.library import classics

    got, out, _ = run(["check", "--classics"], capsys)
    assert got == 0
    rows = {tuple(line.split()[:2]) for line in out.splitlines()}
    assert {(p.name, v) for p in classics().values() for v in p.variants} <= rows
    assert ("sts", "paper") not in rows and "key_lifecycle" not in out


def test_a_classic_is_named_like_a_catalogue_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    got, out, _ = run(["check", "needham_schroeder_pk/original"], capsys)
    assert got == 0 and "needham_schroeder_pk  original" in out
