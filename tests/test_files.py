"""Nothing lost: atomic writes, dated backups, owner-only files (``ethvoip.spec.files``)."""

from __future__ import annotations

import datetime
import io
import os
import stat
from pathlib import Path

import pytest

from ethvoip.spec import files
from ethvoip.spec.errors import ConfigError

NOW = datetime.datetime(2026, 12, 6, 20, 30, 5, tzinfo=datetime.UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_replaces_and_is_private_by_default(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_bytes(b"old")
    files.atomic_write(path, "new é")
    assert path.read_bytes() == "new é".encode()
    assert mode(path) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.json"]


def test_atomic_write_public_mode(tmp_path: Path) -> None:
    path = files.atomic_write(tmp_path / "record.json", b"{}", mode=files.PUBLIC)
    assert mode(path) == 0o644


def test_a_secret_is_never_readable_by_others_not_even_while_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Look at the temporary file at the moment it is renamed into place.
    seen: list[int] = []
    real_replace = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        seen.append(stat.S_IMODE(os.stat(src).st_mode))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    old = os.umask(0)  # the most permissive umask a user could have
    try:
        files.atomic_write(tmp_path / "k", b"key")
    finally:
        os.umask(old)
    assert seen == [0o600]
    assert mode(tmp_path / "k") == 0o600


@pytest.mark.parametrize("fail_in", ["write", "fsync", "replace"])
def test_a_crash_mid_write_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_in: str
) -> None:
    path = tmp_path / "keystore.json"
    path.write_bytes(b"the only copy")

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the harshest way out: not even an Exception

    if fail_in == "write":

        class HalfWriter(io.FileIO):
            def write(self, data: object) -> int:
                super().write(bytes(data)[:4])  # type: ignore[call-overload]
                raise KeyboardInterrupt  # killed with half the bytes on disk

        monkeypatch.setattr(os, "fdopen", lambda fd, _mode: HalfWriter(fd, "wb"))
    else:
        monkeypatch.setattr(os, fail_in, boom)
    with pytest.raises(KeyboardInterrupt):
        files.atomic_write(path, b"half a new file")
    monkeypatch.undo()
    assert path.read_bytes() == b"the only copy"
    assert [p.name for p in tmp_path.iterdir()] == ["keystore.json"]


def test_exclusive_never_replaces(tmp_path: Path) -> None:
    path = tmp_path / "f"
    files.atomic_write(path, b"first", exclusive=True)
    with pytest.raises(FileExistsError):
        files.atomic_write(path, b"second", exclusive=True)
    assert path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_backup_is_dated_identical_and_never_clobbers(tmp_path: Path) -> None:
    path = tmp_path / "keystore.json"
    path.write_bytes(b"v1")
    path.chmod(0o640)
    first = files.backup(path, NOW)
    assert first.name == "keystore.json.20261206T203005Z.bak"
    path.write_bytes(b"v2")  # edited in place: the first backup must not change
    second = files.backup(path, NOW)  # same second: a new name, the first one kept
    assert second.name == "keystore.json.20261206T203005Z.1.bak"
    assert first.read_bytes() == b"v1" and second.read_bytes() == b"v2"
    # A later atomic replacement of the original leaves the backups' bytes alone.
    files.atomic_write(path, b"v3")
    assert first.read_bytes() == b"v1" and second.read_bytes() == b"v2"
    assert mode(first) == 0o600  # never wider than owner-only, whatever the original


def test_a_failed_backup_leaves_no_partial_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "sip.json"
    path.write_bytes(b"creds")

    def boom(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        files.backup(path, NOW)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["sip.json"]


def test_private_files_sets_and_restores_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with files.private_files():
            (tmp_path / "made-inside").touch()
        (tmp_path / "made-after").touch()
    finally:
        os.umask(old)
    assert mode(tmp_path / "made-inside") == 0o600
    assert mode(tmp_path / "made-after") == 0o644


def test_check_dir_writable(tmp_path: Path) -> None:
    files.check_dir_writable(tmp_path, "--dir")
    files.check_dir_writable(tmp_path / "new" / "deeper", "--dir")  # creatable
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        files.check_dir_writable(tmp_path / "a-file", "--dir")
    with pytest.raises(ConfigError, match="cannot be created"):
        files.check_dir_writable(tmp_path / "a-file" / "below", "--dir")
    assert not (tmp_path / "new").exists()  # a check creates nothing


def test_check_file_writable(tmp_path: Path) -> None:
    files.check_file_writable(tmp_path / "out.json", "--record")
    with pytest.raises(ConfigError, match="is a folder"):
        files.check_file_writable(tmp_path, "--record")
    with pytest.raises(ConfigError, match="does not exist: create it first"):
        files.check_file_writable(tmp_path / "missing" / "out.json", "--record")
