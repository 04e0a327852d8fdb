"""``ethvoip prove --record / --traces-dir``: paths refused before proving, nothing half-written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ethvoip.model import cli
from ethvoip.spec.errors import ModelError

TWO = ["mikey_key_transport/paper", "sts/paper"]


def _no_proving(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("proving started before the paths were checked")

    monkeypatch.setattr(cli, "prove", never)
    monkeypatch.setattr(cli, "honest_trace", never)


def test_record_into_a_missing_folder_is_refused_before_proving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_proving(monkeypatch)
    rc = cli.main(["--quiet", "--record", str(tmp_path / "no" / "v.json"), *TWO])
    assert rc == 2
    assert "does not exist (create it first)" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_traces_dir_naming_a_file_is_refused_before_proving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_proving(monkeypatch)
    a_file = tmp_path / "traces"
    a_file.write_text("not a folder")
    assert cli.main(["--quiet", "--traces-dir", str(a_file), *TWO]) == 2
    assert "is a file, expected a folder" in capsys.readouterr().err
    assert a_file.read_text() == "not a folder"


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("failure", [ModelError("solver broke"), KeyboardInterrupt()])
def test_a_run_that_fails_midway_changes_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException
) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    # An old trace of the first target (which the run proves before failing) and the record.
    (traces / "mikey_key_transport.paper.honest.json").write_text("old trace")
    record = tmp_path / "verdicts.json"
    record.write_text("old record")
    before = _snapshot(tmp_path)
    real_prove = cli.prove
    calls: list[str] = []

    def fails_second(*args: Any, **kwargs: Any) -> list[cli.Row]:
        calls.append(args[1])
        if len(calls) == 2:
            raise failure
        return real_prove(*args, **kwargs)

    monkeypatch.setattr(cli, "prove", fails_second)
    argv = ["--quiet", "--max-runs", "1", "--traces-dir", str(traces), "--record", str(record)]
    if isinstance(failure, KeyboardInterrupt):
        assert cli.main([*argv, *TWO]) == 130  # interrupted: the front door's status
    else:
        assert cli.main([*argv, *TWO]) == 1
    assert calls == ["paper", "paper"]  # the first protocol was proved, the second failed
    assert _snapshot(tmp_path) == before


def test_a_finished_run_replaces_the_files_whole(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    traces.mkdir()
    (traces / "mikey_key_transport.paper.honest.json").write_text("old trace")
    (traces / "unrelated.txt").write_text("kept")
    record = tmp_path / "verdicts.json"
    record.write_text("old record")
    argv = ["--quiet", "--max-runs", "1", "--traces-dir", str(traces), "--record", str(record)]
    assert cli.main([*argv, "mikey_key_transport/paper"]) == 0
    assert record.read_text().startswith("{")
    assert (traces / "mikey_key_transport.paper.honest.json").read_text().startswith("{")
    assert (traces / "unrelated.txt").read_text() == "kept"
    leftovers = [p.name for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    assert oct(record.stat().st_mode & 0o777) == oct(0o644)
