# ethvoip: two entry points for a fresh machine (Python 3.11, pip, npm, apt as root).
#   make run   installs everything and runs the main job
#   make test  installs everything and runs the whole test suite
# Everything a test needs is installed here, never by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install
PKGS   := ethvoip.spec ethvoip.model ethvoip.impl ethvoip.attacks
# The files the editable install links (pyproject.toml: strict mode links files, not folders).
PKG_FILES := $(shell find spec model impl attacks contracts tests/traces -type f \
               \( -name '*.py' -o -name '*.json' -o -name '*.sol' -o -name py.typed \) \
               -not -path '*/__pycache__/*' | LC_ALL=C sort)

APT_PKGS := $(shell sed -e 's/#.*//' apt.txt)

.PHONY: install system node contracts traces run test lint typecheck pytest docs clean mutate FORCE

install: $(STAMP)

# Rewritten only when the list changes: a module added or removed re-runs the install, which
# relinks build/__editable__.ethvoip-*/ (`make clean` removes both, so the next make installs).
build/package-files.txt: FORCE
	@mkdir -p build
	@printf '%s\n' $(PKG_FILES) > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi

$(STAMP): pyproject.toml constraints.txt build/package-files.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

# Debian packages (kamailio, sip-tester, tshark ...): apt-get only when one is missing.
system:
	@missing=$$(for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt-get install $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# npm packages (solc for `make contracts`, anvil for the JSON-RPC integration tests).
node: node_modules/.stamp
node_modules/.stamp: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Regenerates contracts/artifacts/*.json (committed; tests fail when one is stale).
contracts: node
	node contracts/compile.mjs

# The main job: the spec's solver-free checks; every claim of every protocol and variant
# decided by the z3 model (exit 0 only when every verdict is the expected one); every attack
# reproduced on the paper variant and stopped by the hardened one, on the concrete code; and
# the whole system end to end (chain, onboarding, TLS-PSK, MIKEY, SRTP, STS re-key).
run: install system node
	$(BIN)/ethvoip check
	$(BIN)/ethvoip prove
	$(BIN)/ethvoip attack all
	$(BIN)/ethvoip demo

# Regenerate what the model produces and others read: the traces the conformance replay runs
# (tests/traces/) and the dated verdict record the docs render.  Needed after a spec change.
traces: install
	$(BIN)/ethvoip prove --quiet --traces-dir tests/traces --record docs/model/verdicts.json

# Mutation testing of the checks (issue 18 §2; not part of `make test`: tens of minutes on two
# cores): removes or weakens each check of the security-deciding modules and the contracts,
# runs the mapped tests on each mutant and writes docs/mutation/report.json and
# docs/mutation.rst.  Never writes the worktree's sources (each worker has a scratch copy).
mutate: install node
	nice -n 10 $(BIN)/python -m tests.mutation.run

lint: install
	$(BIN)/ruff check spec model impl attacks tests bench docs/conf.py docs/_ext docs/tutorial
	$(BIN)/ruff format --check spec model impl attacks tests bench docs/conf.py docs/_ext docs/tutorial

# mypy finds the package as installed (the strict editable install's tree on sys.path), and
# the testbed the benchmarks and tests share from the source tree.
typecheck: install
	$(BIN)/mypy $(addprefix -p ,$(PKGS)) -p bench.testbed
	MYPYPATH=docs/_ext $(BIN)/mypy --strict docs/_ext/*.py

pytest: install
	$(BIN)/python -m pytest -q

docs: install
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

test: install system node lint typecheck pytest docs

clean:
	rm -rf build dist docs/_build .mypy_cache .ruff_cache .pytest_cache
