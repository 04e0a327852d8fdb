"""The front door never shows a traceback: one line ``ethvoip COMMAND: ...`` and an exit status.

Exit statuses (docs/cli.rst): 0 as expected, 1 another outcome, 2 usage, 3 environment,
130 interrupted.  "Nothing listens" is a socket bound and kept open without ``listen()``:
the port is ours for the whole test and refuses connections.
"""

from __future__ import annotations

import contextlib
import io
import os
import pty
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ethvoip.attacks.cli import main
from ethvoip.spec import cliargs
from ethvoip.spec.errors import UsageError

USAGE, ENVIRONMENT, INTERRUPTED = 2, 3, 130


def one_line(err: str, command: str) -> str:
    """The single line of stderr, which names the command; no traceback."""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"ethvoip {command}: " if command else "ethvoip: "), err
    assert f"ethvoip {command}: ethvoip" not in lines[0] and "error: " not in lines[0]
    return lines[0]


@contextlib.contextmanager
def refusing_port() -> Iterator[str]:
    """http://127.0.0.1:PORT where PORT is bound by us, never listening: connect is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@contextlib.contextmanager
def hanging_up_server() -> Iterator[str]:
    """A server that reads a request and closes the connection: a node dying mid-way."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                conn.recv(65536)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    finally:
        with contextlib.suppress(OSError):
            srv.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        srv.close()
        t.join(timeout=5)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(args)
    return status, capsys.readouterr().err


# --- usage errors: exit 2 before any work ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["prove", "nosuch"], "no protocol 'nosuch'"),
        (["prove", "sts/nosuch"], "no variant 'nosuch'"),
        (["prove", "--max-runs", "0", "sts"], "out of range 1..8"),
        (["prove", "--max-runs", "-3", "sts"], "out of range 1..8"),
        (["prove", "--max-runs", "9", "sts"], "out of range 1..8"),
        (["prove", "--max-runs", "10000000000000000000000", "sts"], "out of range"),
        (["prove", "--max-runs", "two", "sts"], "not an integer"),
        (["prove", "--frobnicate"], "unrecognized arguments"),
        (["prove", "--traces-dir", "", "sts"], "an empty path"),  # would be "."
        (["prove", "--record", " ", "sts"], "an empty path"),
        (["serve", "--funding-wei", "-1"], "out of range 0..2^256-1"),
        (["register", "--embedded", "--phone", "+33612345678", "--dir", ""], "an empty path"),
        (["check", "nosuch"], "no protocol 'nosuch'"),
        (["check", "--frobnicate"], "unrecognized arguments"),
        (["attack", "nosuch"], "unknown attack 'nosuch'"),
        (["attack"], "required"),
        (["serve", "--port", "70000"], "out of range 0..65535"),
        (["serve", "--port", "-1"], "out of range 0..65535"),
        (["serve", "--port", "http"], "not an integer"),
        (["serve", "--host", "no such host"], "not an IP address or a host name"),
        (["serve", "--host", ""], "not an IP address or a host name"),
        (["serve", "--key-scrypt-n", "3"], "not a power of two"),
        (["serve", "--key-scrypt-n", "0"], "out of range"),
        (["serve", "--key-scrypt-n", str(2**21)], "out of range"),
        (["serve", "--min-commitment-age", "-5"], "out of range"),
        (["serve", "--min-commitment-age", "86400"], "out of range 0..86399"),
        (["serve", "--rpc", "ftp://node"], "not an http:// or https:// URL"),
        (["serve", "--rpc", "http://node:99999"], "not a URL"),
        (["serve", "--rpc", "x", "--anvil"], "not an http"),
        (["serve", "--rpc", "http://a", "--anvil"], "not allowed with"),
        (["serve", "--key-passphrase-file", "/nonexistent/pass"], "expected an existing file"),
        (["serve", "--db", "/nonexistent/folder/svc.sqlite"], "does not exist"),
        (["demo", "--rpc", "localhost:8545"], "not an http:// or https:// URL"),
        (["register", "--embedded", "--dir", "d"], "required: --phone"),
        (["register", "--embedded", "--phone", "0612345678", "--dir", "d"], "E.164"),
        (["register", "--phone", "+33612345678", "--dir", "d"], "required"),
        (["register", "--embedded", "--phone", "+33612345678"], "required: --dir"),
        (["register", "--embedded", "--phone", "+331", "--dir", "d", "--scrypt-n", "5"], "power"),
        (
            ["register", "--embedded", "--phone", "+33612", "--dir", "d", "--service-key", "xy"],
            "hex",
        ),
        (["register", "--service", "http://a", "--phone", "+33612", "--dir", "d"], "--rpc"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = run(args, capsys)
    assert status == USAGE
    line = one_line(err, args[0])
    assert says in line


def test_path_arguments_are_checked_before_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    status, err = run(["prove", "sts", "--traces-dir", str(a_file)], capsys)
    assert status == USAGE and "is a file" in one_line(err, "prove")
    status, err = run(["prove", "sts", "--traces-dir", str(a_file / "below")], capsys)
    assert status == USAGE and "a file" in one_line(err, "prove")
    status, err = run(["prove", "sts", "--record", str(tmp_path / "missing" / "m.json")], capsys)
    assert status == USAGE and "does not exist" in one_line(err, "prove")
    status, err = run(["prove", "sts", "--record", str(tmp_path)], capsys)
    assert status == USAGE and "is a folder" in one_line(err, "prove")
    status, err = run(
        ["register", "--embedded", "--phone", "+33612345678", "--dir", str(a_file)], capsys
    )
    assert status == USAGE and "is a file" in one_line(err, "register")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_front_door_errors(capsys: pytest.CaptureFixture[str]) -> None:
    status, err = run(["frobnicate"], capsys)
    assert status == USAGE and "unknown command 'frobnicate'" in one_line(err, "")
    status, err = run(["--frobnicate", "check"], capsys)
    assert status == USAGE and "unknown option" in one_line(err, "")
    assert main([]) == USAGE
    assert "usage: ethvoip" in capsys.readouterr().err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    out = capsys.readouterr().out.split()
    assert out[0] == "ethvoip" and out[1][0].isdigit()
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "--debug" in out and "exit status" in out and "prove" in out
    assert main(["prove", "--help"]) == 0
    assert "--max-runs" in capsys.readouterr().out


def test_debug_shows_the_traceback_then_the_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "prove", "--max-runs", "0"]) == USAGE
    err = capsys.readouterr().err
    assert "Traceback" in err and "UsageError" in err
    assert err.splitlines()[-1].startswith("ethvoip prove: argument --max-runs")
    assert cliargs.debug is False  # reset after the command


def test_help_loads_no_heavy_module() -> None:
    """``--help`` of the front door and of every subcommand imports none of the stack."""
    heavy = ("z3", "web3", "eth_tester", "eth_account", "cryptography", "aiohttp", "coincurve")
    code = (
        "import sys\n"
        "from ethvoip.attacks.cli import COMMANDS, main\n"
        "assert main(['--help']) == 0 and main(['--version']) == 0\n"
        "for name in COMMANDS:\n"
        "    assert main([name, '--help']) == 0, name\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]", out.stdout[-500:]


# --- environment errors: exit 3 ----------------------------------------------------------


def test_serve_with_nothing_listening_at_rpc(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the default --db goes to the working folder
    monkeypatch.setenv("ETHVOIP_SERVICE_PASSPHRASE", "a long enough passphrase")
    with refusing_port() as url:
        status, err = run(["serve", "--rpc", url, "--port", "0"], capsys)
    assert status == ENVIRONMENT
    assert "connection refused" in one_line(err, "serve")
    assert list(tmp_path.iterdir()) == []  # the node was asked before any file was made


def test_register_with_nothing_listening(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.impl.service.store import TestStore

    key = tmp_path / "store.pem"
    key.write_bytes(TestStore().private_key_pem())
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "x")
    me = tmp_path / "me"
    with refusing_port() as url:
        args = ["--service", url, "--rpc", url, "--store-key", str(key)]
        status, err = run(["register", *args, "--phone", "+33612345678", "--dir", str(me)], capsys)
    assert status == ENVIRONMENT and "connection refused" in one_line(err, "register")
    assert not me.exists()
    with hanging_up_server() as url:
        args = ["--service", url, "--rpc", url, "--store-key", str(key)]
        status, err = run(["register", *args, "--phone", "+33612345678", "--dir", str(me)], capsys)
    assert status == ENVIRONMENT and "connection lost" in one_line(err, "register")
    assert not me.exists()


def test_register_refuses_a_store_key_that_is_not_pem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key = tmp_path / "store.pem"
    key.write_text("not a key")
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "x")
    args = ["--service", "http://127.0.0.1:1", "--rpc", "http://127.0.0.1:1"]
    args += ["--store-key", str(key), "--phone", "+33612345678", "--dir", str(tmp_path / "me")]
    status, err = run(["register", *args], capsys)
    assert status == USAGE and "not a PEM private key" in one_line(err, "register")


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_node_hanging_up_mid_way(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ETHVOIP_SERVICE_PASSPHRASE", "a long enough passphrase")
    with hanging_up_server() as url:
        status, err = run(
            [command, "--rpc", url, *(["--port", "0"] * (command == "serve"))], capsys
        )
    assert status == ENVIRONMENT
    assert "connection lost" in one_line(err, command)


def test_demo_with_nothing_listening_at_rpc(capsys: pytest.CaptureFixture[str]) -> None:
    with refusing_port() as url:
        status, err = run(["demo", "--rpc", url], capsys)
    assert status == ENVIRONMENT and "connection refused" in one_line(err, "demo")


def test_serve_on_a_port_in_use(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHVOIP_SERVICE_PASSPHRASE", "a long enough passphrase")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        status, err = run(["serve", "--port", port, "--key-scrypt-n", "16"], capsys)
    assert status == ENVIRONMENT and "address already in use" in one_line(err, "serve")


# --- the passphrase prompt ---------------------------------------------------------------

REGISTER = ["register", "--embedded", "--phone", "+33612345678", "--scrypt-n", "16"]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _raise(exc: BaseException) -> object:
    def f(*args: object, **kwargs: object) -> object:
        raise exc

    return f


@pytest.mark.parametrize(
    ("stdin", "prompt_raises", "status", "says"),
    [
        (io.StringIO(""), None, USAGE, "no passphrase"),  # piped, empty
        (_Tty(), EOFError(), USAGE, "no passphrase"),  # Ctrl-D at the prompt
        (_Tty(), KeyboardInterrupt(), INTERRUPTED, "interrupted"),  # Ctrl-C at the prompt
    ],
)
def test_register_passphrase_prompt_ends(
    stdin: io.StringIO,
    prompt_raises: BaseException | None,
    status: int,
    says: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import getpass

    monkeypatch.delenv("ETHVOIP_PASSPHRASE", raising=False)
    monkeypatch.setattr(sys, "stdin", stdin)
    if prompt_raises is not None:
        monkeypatch.setattr(getpass, "getpass", _raise(prompt_raises))
    me = tmp_path / "me"
    got, err = run([*REGISTER, "--dir", str(me)], capsys)
    assert got == status and says in one_line(err, "register")
    assert not me.exists()


# --- interrupted: exit 130, nothing half written ------------------------------------------


def test_ctrl_c_in_prove_writes_no_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.model import cli as prove_cli

    monkeypatch.setattr(prove_cli, "prove", _raise(KeyboardInterrupt()))
    record = tmp_path / "m.json"
    status, err = run(["prove", "sts", "--record", str(record), "--quiet"], capsys)
    assert status == INTERRUPTED and one_line(err, "prove") == "ethvoip prove: interrupted"
    assert not record.exists()


def test_ctrl_c_in_attack_and_demo(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.attacks import demo, runner

    monkeypatch.setattr(runner, "load", _raise(KeyboardInterrupt()))
    status, err = run(["attack", "lowe"], capsys)
    assert status == INTERRUPTED and one_line(err, "attack") == "ethvoip attack: interrupted"
    monkeypatch.setattr(demo, "_chain", _raise(KeyboardInterrupt()))
    status, err = run(["demo"], capsys)
    assert status == INTERRUPTED and one_line(err, "demo") == "ethvoip demo: interrupted"


def test_z3_swallowing_ctrl_c_is_still_an_interrupt() -> None:
    """z3 traps SIGINT during a check and answers unknown: that must not become a verdict."""
    import z3

    from ethvoip.model.search import _check

    class Interrupted:
        def check(self) -> z3.CheckSatResult:
            return z3.unknown

        def reason_unknown(self) -> str:
            return "interrupted from keyboard"

    with pytest.raises(KeyboardInterrupt):
        _check(Interrupted())  # type: ignore[arg-type]


def test_prove_is_quiet_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prove", "--max-runs", "1", "mikey_key_transport/hardened"]) in (0, 1)
    assert capsys.readouterr().err == ""


def test_prove_on_a_terminal_shows_progress_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    """Real SIGINT into a real run, stderr on a pseudo-terminal: the live line, then 130."""
    leader, follower = pty.openpty()
    record = tmp_path / "m.json"
    args = ["prove", "--max-runs", "8", "--record", str(record), "keystore_registration"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "ethvoip.attacks.cli", *args],
        stdout=subprocess.PIPE,
        stderr=follower,
        stdin=subprocess.DEVNULL,
    )
    os.close(follower)
    seen = b""
    try:
        while b" runs, " not in seen:  # the live line shows the search under way
            ready, _, _ = select.select([leader], [], [], 300)
            assert ready, seen
            seen += os.read(leader, 4096)
        proc.send_signal(signal.SIGINT)
        status = proc.wait(timeout=120)
        with contextlib.suppress(OSError):  # EIO once the child is gone
            while select.select([leader], [], [], 1)[0]:
                chunk = os.read(leader, 4096)
                if not chunk:
                    break
                seen += chunk
        assert status == INTERRUPTED, seen[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
        assert proc.stdout is not None
        proc.stdout.close()
    text = seen.decode(errors="replace")
    assert "[1/2] keystore_registration/paper " in text and " checks, " in text
    assert "Traceback" not in text
    assert text.rstrip().splitlines()[-1].endswith("ethvoip prove: interrupted")
    assert not record.exists()


def test_explain_maps_each_kind_once() -> None:
    """The one map: kinds of failure to statuses (the table of docs/cli.rst)."""
    from ethvoip.spec.errors import ChainError, ConfigError, ServiceError, UnknownProtocol

    refused = ChainError("JSON-RPC request failed")
    refused.__cause__ = ConnectionRefusedError(111, "Connection refused")
    cases: list[tuple[BaseException, int]] = [
        (UsageError("x"), USAGE),
        (UnknownProtocol("no protocol 'x'"), USAGE),
        (ConfigError("x"), USAGE),
        (EOFError(), USAGE),
        (KeyboardInterrupt(), INTERRUPTED),
        (refused, ENVIRONMENT),
        (FileNotFoundError(2, "No such file or directory", "/x"), ENVIRONMENT),
        (PermissionError(13, "Permission denied", "/x"), ENVIRONMENT),
        (OSError(98, "Address already in use"), ENVIRONMENT),
        (ServiceError("bad_field", "phone"), 1),
        (RuntimeError("bug"), 1),
    ]
    for exc, status in cases:
        message, got = cliargs.explain(exc)
        assert got == status, (exc, message)
        assert "\n" not in message and message
    assert cliargs.explain(FileNotFoundError(2, "No such file", "/x"))[0] == "/x: No such file"
    # the operator service unreachable: the client's ServiceError, caused by urllib's error
    import urllib.error

    unreachable = ServiceError("unreachable", "http://127.0.0.1:1: refused", status=0)
    unreachable.__cause__ = urllib.error.URLError(ConnectionRefusedError(111, "refused"))
    assert cliargs.explain(unreachable) == (
        "http://127.0.0.1:1: connection refused: is the node or service running at that address?",
        ENVIRONMENT,
    )


def test_serve_with_unusable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHVOIP_SERVICE_PASSPHRASE", "a long enough passphrase")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    status, err = run(["serve", "--store-key", str(junk), "--port", "0"], capsys)
    assert status == USAGE and "not a usable key" in one_line(err, "serve")
    not_db = tmp_path / "svc.sqlite"
    not_db.write_text("not a database, but long enough to be read as a header " * 4)
    args = ["serve", "--db", str(not_db), "--port", "0", "--key-scrypt-n", "16"]
    status, err = run(args, capsys)
    # on the embedded chain an existing --db is refused before it is opened: its chain is gone
    assert status == USAGE and "embedded chain" in one_line(err, "serve")
    binary = tmp_path / "pass"
    binary.write_bytes(b"\xff\xfe\x00")
    status, err = run(["serve", "--key-passphrase-file", str(binary), "--port", "0"], capsys)
    assert status == USAGE and "not UTF-8" in one_line(err, "serve")


def test_reader_leaving_early_is_quiet() -> None:
    """``ethvoip check | head -0``: no traceback, no message, status 141 (128 + SIGPIPE)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "ethvoip.attacks.cli", "check"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the child writes anything
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert err == b""


def test_missing_anvil_is_an_environment_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.impl.chain import anvil

    monkeypatch.delenv("ETHVOIP_ANVIL", raising=False)
    monkeypatch.setattr(anvil, "_REPO", tmp_path)  # no node_modules here
    monkeypatch.setenv("PATH", str(tmp_path))  # and no anvil on PATH
    status, err = run(["demo", "--anvil"], capsys)
    line = one_line(err, "demo")
    assert status == ENVIRONMENT
    assert all(place in line for place in ("$ETHVOIP_ANVIL", "PATH", "make node"))
    monkeypatch.setenv("ETHVOIP_ANVIL", str(tmp_path / "no-anvil"))
    monkeypatch.setenv("ETHVOIP_SERVICE_PASSPHRASE", "a long enough passphrase")
    status, err = run(["serve", "--anvil", "--port", "0"], capsys)
    assert status == ENVIRONMENT and "no-anvil" in one_line(err, "serve")


def test_ctrl_c_landing_in_a_destructor_is_raised_at_the_next_checkpoint() -> None:
    """z3 objects free themselves in ``__del__``, where a KeyboardInterrupt would be lost."""
    from ethvoip.model.cli import CtrlC

    ctrl_c = CtrlC()
    raised_in_destructor: list[bool] = []

    def nested() -> None:  # a function a destructor calls (z3's dec_ref)
        try:
            ctrl_c._handler(signal.SIGINT, sys._getframe())
        except KeyboardInterrupt:
            raised_in_destructor.append(True)

    class Freed:
        def __del__(self) -> None:
            nested()

    Freed()  # freed at once: the handler runs inside __del__
    assert raised_in_destructor == [] and ctrl_c.seen.is_set()
    with pytest.raises(KeyboardInterrupt):
        ctrl_c.checkpoint()
    with pytest.raises(KeyboardInterrupt):  # anywhere else: at once
        ctrl_c._handler(signal.SIGINT, sys._getframe())
