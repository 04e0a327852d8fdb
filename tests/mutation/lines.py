"""Which tests execute which lines of the mutated modules: the map that picks a mutant's tests.

Recorded on the unmutated tree (:mod:`tests.mutation.worker` with coverage.py, one dynamic
context per test), it answers, for a mutant's changed span, the tests that ran any line of
it.  Only those can notice the mutant: the tests are deterministic (derandomized hypothesis,
no clock or order dependence), so a test that never reaches the span runs the same on the
mutant as on the original.  A span that no test reaches is a survivor without a run; a span
that ran outside any test (at import or collection), or a module the recording did not
measure, gives no selection, and the mutant runs the whole mapped test set.

The map also keeps each test's duration (the timeout budgets).  It is cached per test file
in ``build/mutation/lines/``, keyed by that file's content and a digest of everything else
the tests run (sources, contracts, the test helpers): editing or adding one test file
records that file again, not the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: What every recording depends on besides its own test file.
_DIGESTED = ("spec", "model", "impl", "attacks", "tests", "contracts")
_SUFFIXES = (".py", ".sol", ".toml", ".json")


def _is_test_file(path: Path) -> bool:
    return path.name.startswith("test_") or path.name.endswith("_test.py")


def digest(root: Path) -> str:
    """A hash of every source, contract and test helper under ``root`` (not the test files
    themselves: each keys its own recording), or of the one file ``root``."""
    h = hashlib.sha256()
    if root.is_file():
        return hashlib.sha256(root.read_bytes()).hexdigest()
    for top in _DIGESTED:
        for path in sorted((root / top).rglob("*")):
            rel = path.relative_to(root)
            skip = "__pycache__" in rel.parts or rel.parts[:2] == ("tests", "mutation")
            if top == "tests" and _is_test_file(path):
                skip = True
            if path.suffix in _SUFFIXES and path.is_file() and not skip:
                h.update(str(rel).encode() + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def files_of(root: Path, paths: Iterable[str]) -> list[str]:
    """The test files named by ``paths`` (files, or folders searched as pytest would)."""
    out: set[str] = set()
    for rel in paths:
        path = root / rel
        if path.is_dir():
            found = [*path.rglob("test_*.py"), *path.rglob("*_test.py")]
            out.update(str(p.relative_to(root)) for p in found)
        elif path.exists():
            out.add(rel)
    return sorted(out)


@dataclass
class LineMap:
    """Per module (repository-relative path), per line, the node ids of the tests that ran it
    ("" for a run outside any test); each test's duration in seconds; the modules measured."""

    lines: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    modules: set[str] | None = None  # None: every module any recording measured

    def add_coverage(self, data_file: Path, modules: Iterable[str]) -> None:
        """Merge one recording's coverage data file."""
        import coverage

        data = coverage.CoverageData(basename=str(data_file))
        data.read()
        wanted = list(modules)
        for measured in data.measured_files():
            rel = next((m for m in wanted if measured.endswith("/" + m)), None)
            if rel is None:
                continue
            lines = self.lines.setdefault(rel, {})
            for line, contexts in data.contexts_by_lineno(measured).items():
                lines.setdefault(line, set()).update(contexts)

    def merge(self, other: LineMap) -> None:
        """Add another recording (of other test files)."""
        for path, by_line in other.lines.items():
            mine = self.lines.setdefault(path, {})
            for n, tests in by_line.items():
                mine.setdefault(n, set()).update(tests)
        self.durations.update(other.durations)
        if other.modules is not None:
            self.modules = set(other.modules) if self.modules is None else self.modules
            self.modules &= other.modules

    def select(
        self, path: str, first: int, last: int, skip: Iterable[str] = ()
    ) -> list[str] | None:
        """The tests that executed any line of ``path`` from ``first`` to ``last``, fastest
        first (so ``-x`` stops early); ``None`` when some of it ran outside any test or the
        module was not measured by every recording."""
        if self.modules is not None and path not in self.modules:
            return None
        lines = self.lines.get(path, {})
        ran: set[str] = set()
        for line in range(first, last + 1):
            ran |= lines.get(line, set())
        if "" in ran:
            return None
        skipped = tuple(skip)
        chosen = [t for t in ran if not (skipped and t.startswith(skipped))]
        return sorted(chosen, key=lambda t: (self.durations.get(t, 0.0), t))

    def seconds(self, args: Iterable[str]) -> float:
        """What the recording spent on the tests a pytest argument list selects (paths,
        node ids, ``--ignore=``, ``--deselect=``)."""
        keep, drop = [], []
        for arg in args:
            if arg.startswith(("--ignore=", "--deselect=")):
                drop.append(arg.split("=", 1)[1])
            elif not arg.startswith("-"):
                keep.append(arg)

        def under(test: str, prefix: str) -> bool:
            return test == prefix or test.startswith((prefix + "::", prefix.rstrip("/") + "/"))

        return sum(
            spent
            for test, spent in self.durations.items()
            if any(under(test, k) for k in keep) and not any(under(test, d) for d in drop)
        )

    def to_json(self, key: str) -> str:
        lines = {
            path: {str(n): sorted(tests) for n, tests in sorted(by_line.items())}
            for path, by_line in sorted(self.lines.items())
        }
        modules = sorted(self.modules) if self.modules is not None else None
        data = {"digest": key, "modules": modules, "lines": lines, "durations": self.durations}
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str, key: str) -> LineMap | None:
        """The cached map, or None when it was recorded from other files."""
        data = json.loads(text)
        if data.get("digest") != key:
            return None
        lines = {
            path: {int(n): set(tests) for n, tests in by_line.items()}
            for path, by_line in data["lines"].items()
        }
        durations = {str(k): float(v) for k, v in data["durations"].items()}
        modules = data.get("modules")
        return cls(lines, durations, set(modules) if modules is not None else None)


class Cache:
    """The recordings of single test files, in ``folder``, each under a key made of the
    common digest and the file's own content."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.root, self.folder = root, folder
        self.common = digest(root)

    def key(self, test_file: str) -> str:
        own = hashlib.sha256((self.root / test_file).read_bytes()).hexdigest()
        return hashlib.sha256(f"{self.common}:{test_file}:{own}".encode()).hexdigest()

    def _path(self, test_file: str) -> Path:
        return self.folder / (test_file.replace("/", "__") + ".json")

    def get(self, test_file: str) -> LineMap | None:
        path = self._path(test_file)
        if not path.exists():
            return None
        return LineMap.from_json(path.read_text(), self.key(test_file))

    def put(self, test_file: str, lines: LineMap) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path(test_file).write_text(lines.to_json(self.key(test_file)))


def split(lines: LineMap, test_files: Iterable[str]) -> dict[str, LineMap]:
    """One recording of many files cut into one per file (node ids start with the file)."""
    out: dict[str, LineMap] = {}
    for f in test_files:
        mine = LineMap(modules=set(lines.modules) if lines.modules is not None else None)
        prefix = f + "::"
        mine.durations = {t: s for t, s in lines.durations.items() if t.startswith(prefix)}
        for path, by_line in lines.lines.items():
            for n, tests in by_line.items():
                own = {t for t in tests if t.startswith(prefix) or t == ""}
                if own:
                    mine.lines.setdefault(path, {})[n] = own
        out[f] = mine
    return out
