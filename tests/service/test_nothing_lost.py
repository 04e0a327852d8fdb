"""Nothing lost: ``register`` never overwrites a keystore, checks what was typed before any
key or byte leaves, and the operator's files are owner-only from creation."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path

import pytest

from ethvoip.attacks.cli import main as ethvoip
from ethvoip.impl import chain as chain_module
from ethvoip.impl.chain import EmbeddedChain
from ethvoip.impl.service.config import ServiceConfig
from ethvoip.impl.service.sipdb import SubscriberCredentials
from ethvoip.impl.service.store import TestStore
from ethvoip.impl.subscriber import client as client_module
from ethvoip.impl.subscriber.client import OnboardingClient
from ethvoip.impl.subscriber.keyfile import KEYSTORE_NAME, SIP_NAME, load_keystore
from ethvoip.spec.errors import ServiceError, WouldOverwrite

from .conftest import Running, build
from .helpers import fresh_number

OLD_KEYSTORE = b'{"the": "only copy of an old private key"}'
OLD_SIP = b'{"username": "+33600000000"}'


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def nothing_may_happen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any key generation, request, or embedded chain fails the test."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a key was made or a request sent before the input was checked")

    monkeypatch.setattr(client_module.IdentityKey, "generate", forbidden)
    monkeypatch.setattr(client_module.ServiceHttp, "request", forbidden)
    monkeypatch.setattr(chain_module, "EmbeddedChain", forbidden)  # imported when needed
    monkeypatch.setattr(chain_module, "RpcChain", forbidden)
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "pw")


BAD_INPUT = {
    "number without +": (["--embedded", "--phone", "0612345678"], "E.164"),
    "number with spaces": (["--embedded", "--phone", "+33 6 12 34 56 78"], "E.164"),
    "service not http": (["--service", "ftp://operator.example"], "https:// URL"),
    "service port": (["--service", "http://127.0.0.1:99999"], "Port out of range"),
    "rpc without scheme": (["--service", "http://op.example", "--rpc", "node:8545"], "URL"),
    "missing store key": (
        ["--service", "http://op.example", "--store-key", "nope.pem"],
        "expected an existing file",
    ),
    "scrypt n": (["--embedded", "--scrypt-n", "1000"], "power of two"),
    "service key": (["--embedded", "--service-key", "not hex"], "not hex"),
    "passphrase file": (["--embedded", "--passphrase-file", "nope"], "expected an existing file"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUT))
@pytest.mark.usefixtures("nothing_may_happen")
def test_bad_input_is_refused_before_any_key_or_request(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # relative names ("nope.pem") resolve here
    args, message = BAD_INPUT[case]
    defaults = {"--phone": "+33612345678", "--rpc": "http://127.0.0.1:8545"}
    if "--service" in args:
        (tmp_path / "store.pem").write_bytes(TestStore().private_key_pem())
        defaults["--store-key"] = str(tmp_path / "store.pem")
    for flag, value in defaults.items():
        if flag not in args and (flag == "--phone" or "--service" in args):
            args = [*args, flag, value]
    before = snapshot(tmp_path)
    status = ethvoip(["register", *args, "--dir", str(tmp_path / "me")])
    err = capsys.readouterr().err
    assert status != 0
    assert message in err and "Traceback" not in err, err
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "me").exists()


@pytest.mark.parametrize("existing", [[KEYSTORE_NAME], [SIP_NAME], [KEYSTORE_NAME, SIP_NAME]])
@pytest.mark.usefixtures("nothing_may_happen")
def test_an_existing_keystore_is_refused_and_kept(
    existing: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in existing:
        (tmp_path / name).write_bytes(OLD_KEYSTORE)
    before = snapshot(tmp_path)
    status = ethvoip(["register", "--embedded", "--phone", "+33612345678", "--dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert status != 0
    assert "already there" in err and "--force" in err, err
    assert snapshot(tmp_path) == before  # no backup either: nothing was replaced


@pytest.mark.usefixtures("nothing_may_happen")
def test_a_dir_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "me").write_text("a file")
    status = ethvoip(
        ["register", "--embedded", "--phone", "+33612345678", "--dir", str(tmp_path / "me")]
    )
    assert status != 0
    assert "is a file, expected a folder" in capsys.readouterr().err
    assert (tmp_path / "me").read_text() == "a file"


def test_force_keeps_dated_backups_with_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "new passphrase")
    (tmp_path / KEYSTORE_NAME).write_bytes(OLD_KEYSTORE)
    (tmp_path / SIP_NAME).write_bytes(OLD_SIP)
    status = ethvoip(
        ["register", "--embedded", "--force", "--phone", "+33699999998", "--dir", str(tmp_path),
         "--scrypt-n", "16"]
    )  # fmt: skip
    assert status == 0, capsys.readouterr()
    backups = {p.name.split(".")[0]: p for p in tmp_path.glob("*.bak")}
    assert sorted(backups) == ["keystore", "sip"]
    assert backups["keystore"].read_bytes() == OLD_KEYSTORE
    assert backups["sip"].read_bytes() == OLD_SIP
    # The new files are the new subscriber's, owner-only like everything in the folder.
    assert load_keystore(tmp_path, "new passphrase").identity is not None
    assert json.loads((tmp_path / SIP_NAME).read_text())["username"] == "+33699999998"
    assert {p.name: mode(p) for p in tmp_path.iterdir()} == {
        p.name: 0o600 for p in tmp_path.iterdir()
    }
    # The embedded service's throwaway state is gone with it.
    out = capsys.readouterr().out
    assert "throwaway state in" in out
    state = out.split("throwaway state in ")[1].split(")")[0]
    assert not Path(state).exists()


def test_a_failed_registration_with_force_keeps_the_old_keystore(
    running: Running, chain: EmbeddedChain, tmp_path: Path
) -> None:
    (tmp_path / KEYSTORE_NAME).write_bytes(OLD_KEYSTORE)
    # A store the service does not trust: the funding request is refused (after the keys).
    client = OnboardingClient(running.url, chain, TestStore(), retries=0)
    with pytest.raises(ServiceError):
        client.onboard(fresh_number(), tmp_path, "pw", scrypt_n=16, force=True)
    (backup,) = tmp_path.glob("keystore.json.*.bak")
    assert backup.read_bytes() == OLD_KEYSTORE
    assert mode(tmp_path / KEYSTORE_NAME) == 0o600
    assert not (tmp_path / SIP_NAME).exists()


def test_a_forced_registration_that_stops_half_way_leaves_no_mixed_pair(
    running: Running, chain: EmbeddedChain, tmp_path: Path
) -> None:
    # The old set (an approved keystore and its sip.json) goes to the backups together: a
    # forced run that fails after its new keystore leaves that keystore alone, never beside
    # the old sip.json, whose credential belongs to the old key.
    (tmp_path / KEYSTORE_NAME).write_bytes(OLD_KEYSTORE)
    (tmp_path / SIP_NAME).write_bytes(OLD_SIP)
    client = OnboardingClient(running.url, chain, TestStore(), retries=0)
    with pytest.raises(ServiceError):
        client.onboard(fresh_number(), tmp_path, "pw", scrypt_n=16, force=True)
    assert not (tmp_path / SIP_NAME).exists()
    assert (tmp_path / KEYSTORE_NAME).read_bytes() != OLD_KEYSTORE
    backups = {p.name.split(".")[0]: p for p in tmp_path.glob("*.bak")}
    assert sorted(backups) == ["keystore", "sip"]
    assert backups["keystore"].read_bytes() == OLD_KEYSTORE
    assert backups["sip"].read_bytes() == OLD_SIP
    stamps = {p.name.split(".")[2] for p in backups.values()}
    assert len(stamps) == 1  # one timestamp for the set


def test_a_failed_registration_keeps_its_new_keystore_against_a_retry(
    running: Running, chain: EmbeddedChain, tmp_path: Path
) -> None:
    # The first attempt fails after writing a new keystore; the retry must not replace it.
    client = OnboardingClient(running.url, chain, TestStore(), retries=0)
    with pytest.raises(ServiceError):
        client.onboard(fresh_number(), tmp_path, "pw", scrypt_n=16)
    written = (tmp_path / KEYSTORE_NAME).read_bytes()
    with pytest.raises(WouldOverwrite):
        client.onboard(fresh_number(), tmp_path, "pw", scrypt_n=16)
    assert (tmp_path / KEYSTORE_NAME).read_bytes() == written
    assert list(tmp_path.glob("*.bak")) == []


def test_the_operators_databases_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)  # even a careless umask
    try:
        store = TestStore()
        built = build(
            ServiceConfig(store.public_key_pem), EmbeddedChain(), tmp_path / "s.sqlite",
            tmp_path / "sip.sqlite",
        )  # fmt: skip
        built.sip.provision("+33612345678", "secret")
        reader = SubscriberCredentials(tmp_path / "sip.sqlite")
        assert reader.ha1("+33612345678", "ethvoip.test")
        made = {p.name: mode(p) for p in tmp_path.iterdir()}
        reader.close()
        built.close()
    finally:
        os.umask(old)
    assert {"s.sqlite", "s.sqlite-wal", "s.sqlite-shm", "sip.sqlite", "s-keys.json"} <= set(made)
    assert made == {name: 0o600 for name in made}


def test_serve_refuses_its_own_db_on_a_new_embedded_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.impl.service.cli import store_public_pem

    from .conftest import PASSPHRASE

    monkeypatch.setenv("ETHVOIP_SERVICE_PASSPHRASE", PASSPHRASE)
    db = tmp_path / "svc.sqlite"
    config = ServiceConfig(store_public_pem(tmp_path / "store-key.pem"))
    build(config, EmbeddedChain(), db, tmp_path / "svc-sip.sqlite").close()
    before = snapshot(tmp_path)
    assert ethvoip(["serve", "--db", str(db), "--port", "0"]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "embedded chain" in err and "--rpc" in err, err
    assert snapshot(tmp_path) == before  # refused before anything was opened


@pytest.mark.parametrize("way_out", [KeyboardInterrupt, SystemExit])
def test_serve_throwaway_state_is_removed_on_every_way_out(
    way_out: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.impl.service import cli as serve_cli

    seen: dict[str, object] = {}

    async def stopped(
        app: object, host: str, port: int, ready: dict[str, object], *a: object
    ) -> None:
        seen.update(ready)
        assert Path(str(ready["db"])).exists()  # the state is there while serving
        raise way_out()

    monkeypatch.setattr(serve_cli, "_serve", stopped)
    # the front door may turn the way out into an exit status (130 for Ctrl-C) or let it go
    with contextlib.suppress(way_out):
        ethvoip(["serve", "--port", "0", "--key-scrypt-n", "1024"])
    state = Path(str(seen["db"])).parent
    assert state.name.startswith("ethvoip-serve-") and not state.exists()


def test_a_crash_while_replacing_a_keystore_leaves_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ethvoip.impl.crypto import IdentityKey
    from ethvoip.impl.subscriber.keyfile import Secrets, save_keystore

    (tmp_path / KEYSTORE_NAME).write_bytes(OLD_KEYSTORE)

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    secrets = Secrets(b"\x01" * 32, IdentityKey.generate())
    with pytest.raises(OSError, match="power cut"):
        save_keystore(tmp_path, secrets, "pw", scrypt_n=16, force=True, clock=lambda: 0.0)
    monkeypatch.undo()
    assert (tmp_path / KEYSTORE_NAME).read_bytes() == OLD_KEYSTORE
    # The backup taken before the attempt is the only other file: no temporary is left.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        KEYSTORE_NAME,
        "keystore.json.19700101T000000Z.bak",
    ]


def test_a_service_key_file_is_never_replaced(tmp_path: Path) -> None:
    from ethvoip.impl.service.keyvault import ServiceKeys, load_service_keys, save_service_keys

    path = tmp_path / "svc-keys.json"
    first = ServiceKeys.generate(os.urandom)
    save_service_keys(path, first, "pw", scrypt_n=16)
    assert mode(path) == 0o600
    with pytest.raises(WouldOverwrite):
        save_service_keys(path, ServiceKeys.generate(os.urandom), "pw", scrypt_n=16)
    assert load_service_keys(path, "pw") == first
    assert [p.name for p in tmp_path.iterdir()] == ["svc-keys.json"]


@pytest.mark.parametrize("source", ["file", "env", "crlf"])
@pytest.mark.usefixtures("nothing_may_happen")
def test_an_empty_keystore_passphrase_is_refused_before_any_key(
    source: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # an empty passphrase would leave the wallet and identity keys open to whoever copies
    # keystore.json (the thief of the threat model)
    args = ["register", "--embedded", "--phone", "+33612345678", "--dir", str(tmp_path / "me")]
    if source == "env":
        monkeypatch.setenv("ETHVOIP_PASSPHRASE", "")
    else:
        pw = tmp_path / "pw"
        pw.write_bytes(b"" if source == "file" else b"\r\nsecond line\r\n")
        args += ["--passphrase-file", str(pw)]
    assert ethvoip(args) == 2
    assert "passphrase is empty" in capsys.readouterr().err
    assert not (tmp_path / "me").exists()


def test_a_passphrase_file_gives_its_first_line_without_line_ends(tmp_path: Path) -> None:
    import argparse

    from ethvoip.impl.subscriber import cli as client_cli

    pw = tmp_path / "pw"
    pw.write_bytes(b"correct horse\r\nignored\r\n")
    args = argparse.Namespace(passphrase_file=pw)
    assert client_cli._passphrase(args) == "correct horse"
