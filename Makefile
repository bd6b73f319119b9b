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

# The oldest supported stack (what Colab ships, pinned in .ci/colab-stack.txt): its own venv, the
# course package installed as the Colab setup cell installs it, the smoke notebooks under nbval.
OLDEST_VENV   ?= .venv-oldest
OLDEST_PYTHON ?= $(PYTHON)
OLDEST_STACK  := .ci/colab-stack.txt
# What `pip install "seminar_utils @ ..."` installs: this repository's committed HEAD, cloned by pip
# as Colab clones REPO_URL. OLDEST_SOURCE=file://$(CURDIR) installs the working tree instead.
OLDEST_SOURCE ?= git+file://$(CURDIR)
OLDEST_BUILD  := build/oldest
OPY           := $(OLDEST_VENV)/bin/python

.PHONY: setup run test mirror clean setup-oldest test-oldest

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[tf,dev]"
	touch $@

setup: $(VENV)/.installed

mirror:
ifdef LINK_MIRROR
	$(PYTHON) tools/link_mirror.py $(SHARED_ASSETS) .cache/mirror .cache/keras
else
	@echo "Data mirror: $(if $(SEMINAR_DATA_MIRROR),$(SEMINAR_DATA_MIRROR),none (downloads, or stand-ins offline))"
endif

run: setup mirror
	$(PY) tools/run_notebooks.py --profile $(PROFILE)

test: setup mirror
	$(PY) -m pytest

# 1. Colab's TensorFlow / Keras / NumPy, pinned, and the test tools, constrained by the same pins
#    (Colab preinstalls ipykernel too). Both venvs use pip's default cache (shared downloads).
$(OLDEST_VENV)/.stack: $(OLDEST_STACK)
	rm -rf $(OLDEST_VENV)
	$(OLDEST_PYTHON) -m venv $(OLDEST_VENV)
	$(OPY) -m pip install --quiet --upgrade pip
	$(OPY) -m pip install --quiet -r $(OLDEST_STACK) -c $(OLDEST_STACK) pytest nbval ipykernel
	touch $@

# 2. The package, every time, exactly as the setup cell: no constraints, TensorFlow not named; the
#    check fails if that install moved a pin or if the kernel would import the checkout.
setup-oldest: $(OLDEST_VENV)/.stack
	$(OPY) -m pip uninstall --quiet --yes seminar_utils
	$(OPY) -m pip install --quiet "seminar_utils @ $(OLDEST_SOURCE)"
	$(OPY) tools/ci_oldest.py check

# Every notebook in smoke, nbval as in `make test`, in the kernel of .venv-oldest; own caches and
# artifacts (no model saved by the main stack's Keras is loaded); a per-notebook table at the end.
test-oldest: setup-oldest mirror
	rm -rf $(OLDEST_BUILD) && mkdir -p $(OLDEST_BUILD)
	env -u PYTHONPATH $(OPY) tools/ci_oldest.py check --kernel
	env -u PYTHONPATH SEMINAR_PROFILE=smoke SEMINAR_CACHE_DIR=$(CURDIR)/$(OLDEST_BUILD)/cache \
	  SEMINAR_ARTIFACTS_DIR=$(CURDIR)/$(OLDEST_BUILD)/artifacts \
	  $(OPY) -m pytest -p no:cacheprovider -q --junitxml=$(OLDEST_BUILD)/junit.xml notebooks; \
	  status=$$?; $(OPY) tools/ci_oldest.py report $(OLDEST_BUILD)/junit.xml; exit $$status

clean:
	rm -rf build .cache .pytest_cache
