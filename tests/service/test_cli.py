"""``ethvoip register --embedded`` and ``ethvoip serve`` through the front door."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ethvoip.attacks.cli import main as ethvoip
from ethvoip.impl.chain.policies import DEFAULT_POLICY
from ethvoip.impl.service.cli import store_public_pem
from ethvoip.impl.subscriber.keyfile import load_keystore, load_trust


def test_register_embedded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "correct horse")
    status = ethvoip(
        ["register", "--embedded", "--phone", "+33699999999", "--dir", str(tmp_path / "me"),
         "--scrypt-n", "16"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    for n, step in enumerate(["service", "keys", "purchase", "funding", "commit", "register",
                              "approval", "sip", "trust"], start=1):  # fmt: skip
        assert f"[{n}/9] {step}" in out
    sip = json.loads((tmp_path / "me" / "sip.json").read_text())
    assert sip["username"] == "+33699999999"
    assert (tmp_path / "me" / "sip.json").stat().st_mode & 0o777 == 0o600
    assert load_keystore(tmp_path / "me", "correct horse").identity is not None
    # the phone's root of trust: the checkpoint the operator sealed into its approval reply
    trust = load_trust(tmp_path / "me")
    assert trust.policy == DEFAULT_POLICY and trust.checkpoint.number > 0
    assert (tmp_path / "me" / "trust.json").stat().st_mode & 0o777 == 0o600


def test_register_refuses_bad_number_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "x")
    me = tmp_path / "me"
    args = ["--phone", "0612345678", "--dir", str(me), "--scrypt-n", "16"]
    assert ethvoip(["register", "--embedded", *args]) == 2  # usage
    err = capsys.readouterr().err
    assert "E.164" in err and len(err.splitlines()) == 1
    assert not me.exists()  # no key made, nothing written


def test_register_needs_chain_and_store_with_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ETHVOIP_PASSPHRASE", "x")
    args = ["register", "--service", "http://127.0.0.1:9", "--phone", "+33612345678"]
    assert ethvoip([*args, "--dir", str(tmp_path)]) == 2


def test_store_key_file_is_created_once(tmp_path: Path) -> None:
    path = tmp_path / "store.pem"
    first = store_public_pem(path)
    assert b"PUBLIC KEY" in first and path.stat().st_mode & 0o777 == 0o600
    assert store_public_pem(path) == first
    public_only = tmp_path / "pub.pem"
    public_only.write_bytes(first)
    assert store_public_pem(public_only) == first
