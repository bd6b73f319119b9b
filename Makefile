# The course's two commands:  `make run`  (execute the notebooks, quick profile)  and  `make test`.
PYTHON      ?= python3
VENV        ?= .venv
PY          := $(VENV)/bin/python
PROFILE     ?= quick
SHARED_ASSETS ?= $(abspath ../shared/assets)

# Offline mirror: use SEMINAR_DATA_MIRROR if you set it; otherwise link ../shared/assets when present.
ifeq ($(SEMINAR_DATA_MIRROR),)
ifneq ($(wildcard $(SHARED_ASSETS)/datasets),)
export SEMINAR_DATA_MIRROR := $(CURDIR)/.cache/mirror
export KERAS_HOME ?= $(CURDIR)/.cache/keras
LINK_MIRROR := 1
endif
endif

.PHONY: setup run test mirror clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[tf,dev]"
	touch $@

setup: $(VENV)/.installed

mirror:
ifdef LINK_MIRROR
	$(PY) tools/link_mirror.py $(SHARED_ASSETS) .cache/mirror .cache/keras
else
	@echo "Data mirror: $(if $(SEMINAR_DATA_MIRROR),$(SEMINAR_DATA_MIRROR),none (downloads, or stand-ins offline))"
endif

run: setup mirror
	$(PY) tools/run_notebooks.py --profile $(PROFILE)

test: setup mirror
	$(PY) -m pytest

clean:
	rm -rf build .cache .pytest_cache
