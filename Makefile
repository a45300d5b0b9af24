# onepoch: build the book and run the tests.
#   make book    full book (the published one)  -> _build/html/index.html
#   make quick   quick book (quick=True)        -> _build/quick/html/index.html
#   make test    quick book, unit tests, nbval over the quick executed chapters, then the page check
#   make venv    create .venv (pip install -e . with constraints.txt, register the python3 kernel);
#                editable_mode=compat: a .pth path entry, so a folder named onepoch in the working
#                directory (the clone itself, seen from its parent) cannot shadow the package
# Every target creates the virtual environment first if it is missing or stale.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.onepoch-installed
JOBS ?= 1

# Data folder: ../shared/data beside the checkout when ONEPOCH_DATA is unset.
ifeq ($(strip $(ONEPOCH_DATA)),)
  ifneq ($(wildcard ../shared/data),)
    ONEPOCH_DATA := $(abspath ../shared/data)
  endif
endif
# Absolute paths: nbval starts the kernel in the notebook's folder, not here.
ONEPOCH_CACHE ?= .onepoch-cache
override ONEPOCH_CACHE := $(abspath $(ONEPOCH_CACHE))
ifneq ($(strip $(ONEPOCH_DATA)),)
  override ONEPOCH_DATA := $(abspath $(ONEPOCH_DATA))
endif
export ONEPOCH_DATA ONEPOCH_CACHE
export ONEPOCH_PROGRESS := 0
export PYTHONHASHSEED := 0

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout=3600 -p no:cacheprovider -ra

.PHONY: venv book quick test unit nbval clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e . --config-settings editable_mode=compat
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (onepoch)"
	touch $@

book: venv
	$(BIN)/onepoch build --jobs $(JOBS)

quick: venv
	$(BIN)/onepoch build --quick --jobs $(JOBS)

unit: venv
	$(BIN)/python -m pytest tests/ -ra

# nbval re-runs each executed quick chapter and compares every output (strict);
# the kernel gets the same ledger folder and settings as the quick build.
nbval: venv
	ONEPOCH_LEDGER=$(abspath _build/quick/ledger) \
	  $(BIN)/python -m pytest $(NBVAL_FLAGS) _build/quick/executed/*.ipynb

test: quick
	$(MAKE) --no-print-directory unit
	$(MAKE) --no-print-directory nbval
	$(MAKE) --no-print-directory pagecheck

clean:
	rm -rf _build

# JupyterLab on the chapters with ONEPOCH_DATA/CACHE/LEDGER set (installs the [lab] extra once).
.PHONY: lab pagecheck
lab: venv
	$(BIN)/onepoch lab

# Reader-facing page check of the quick book in headless Chromium (installs chromium and
# playwright when missing; run after `make quick`).
pagecheck: venv
	command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
	  || echo "chromium could not be installed: tests/test_pages.py will skip, saying so"
	$(BIN)/python -m pip install --quiet -c constraints.txt playwright==1.65.2
	$(BIN)/python -m pytest tests/test_pages.py -ra -p no:cacheprovider
