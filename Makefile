# ethvoip: two entry points for a fresh machine (Python 3.11, pip, npm, apt as root).
#   make run   installs everything and runs the main job
#   make test  installs everything and runs the whole test suite
# Everything a test needs is installed here, never by hand.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.stamp-install
PKGS   := ethvoip.spec ethvoip.model ethvoip.impl ethvoip.attacks

.PHONY: install run test lint typecheck pytest docs wheel-check clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

run: install
	$(BIN)/ethvoip check

# mypy cannot see through setuptools' editable finder, so it reads the packages through a
# link farm that mirrors the installed layout (ethvoip/<layer> -> <layer>/).
build/typecheck/ethvoip:
	mkdir -p $@
	for d in spec model impl attacks; do ln -sfn ../../../$$d $@/$$d; done

lint: install
	$(BIN)/ruff check spec model impl attacks tests bench docs/conf.py
	$(BIN)/ruff format --check spec model impl attacks tests bench docs/conf.py

typecheck: install build/typecheck/ethvoip
	cd build/typecheck && ../../$(BIN)/mypy --config-file ../../pyproject.toml $(addprefix -p ,$(PKGS))

pytest: install
	$(BIN)/python -m pytest -q

docs: install
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

test: install lint typecheck pytest docs

clean:
	rm -rf build dist docs/_build .mypy_cache .ruff_cache .pytest_cache
