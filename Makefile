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
# Colab runs Python 3.12: use it when this machine has one that runs (pyenv's shim answers
# `command -v python3.12` even when no 3.12 is selected, so each candidate is asked to run).
OLDEST_PYTHON ?= $(firstword $(foreach p,python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12),$(shell $(p) -c 'import venv, ssl' >/dev/null 2>&1 && command -v $(p))) $(PYTHON))
OLDEST_STACK  := .ci/colab-stack.txt
# One commit (default HEAD: commit your work first; CI is a fresh clone anyway): pip clones it as
# Colab's setup cell clones REPO_URL, and its notebooks are run outside the checkout, as in Colab.
OLDEST_REF    ?= HEAD
OLDEST_COMMIT := $(shell git rev-parse --verify --quiet "$(OLDEST_REF)^{commit}" 2>/dev/null)
OLDEST_BUILD  := build/oldest
OPY           := $(OLDEST_VENV)/bin/python

.PHONY: setup run test mirror clean setup-oldest test-oldest test-imagenet compare baseline student grade

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

# The unit tests on both cores (pytest-xdist, one worker per test file at a time), then the
# notebooks one after another (nbval; notebook 06 reads the model notebook 02 saved).
test: setup mirror
	$(PY) -m pytest -n 2 --dist loadfile --durations=10 tests; unit=$$?; \
	$(PY) -m pytest --durations=5 notebooks; nb=$$?; exit $$(( unit || nb ))

# Notebooks 04-07 down the ImageNet-weights branch, with generated weight files (tests/test_imagenet_branch.py).
test-imagenet: setup mirror
	$(PY) -m pytest -p no:cacheprovider -m imagenet tests/test_imagenet_branch.py

# This run's results against the baseline of its profile (drift table; exit 1 on a bad move).
compare: setup
	$(PY) tools/compare_runs.py data/reference/baseline_$(PROFILE).json build/$(PROFILE)/results.json \
	  --figure build/$(PROFILE)/drift.png

# After an intended change of results (and a look at `make compare`): this run becomes the baseline.
baseline: setup
	$(PY) tools/compare_runs.py data/reference/baseline_$(PROFILE).json build/$(PROFILE)/results.json \
	  --adopt "$(if $(HOW),$(HOW),make run PROFILE=$(PROFILE) (or make test for smoke) on the real mirror data, then make baseline)"

# The student release (solutions out, hints and checks in) and grading, with nbgrader.
student: setup
	$(PY) tools/classroom.py release
grade: setup mirror
	@test -n "$(SUBMISSIONS)" || { echo "make grade SUBMISSIONS=folder (folder/<learner>/NN_name.ipynb)"; exit 1; }
	$(PY) tools/classroom.py grade $(SUBMISSIONS)

# 1. Colab's TensorFlow / Keras / NumPy, pinned, and the test tools, constrained by the same pins
#    (Colab preinstalls ipykernel too). Both venvs share pip's default cache (downloads reused
#    where the index sends cache headers; the registry proxy here sends none, so nothing is kept).
$(OLDEST_VENV)/.stack: $(OLDEST_STACK)
	rm -rf $(OLDEST_VENV)
	$(OLDEST_PYTHON) -m venv $(OLDEST_VENV)
	$(OPY) -m pip install --quiet --upgrade pip
	$(OPY) -m pip install --quiet -r $(OLDEST_STACK) -c $(OLDEST_STACK) pytest nbval ipykernel
	touch $@

# 2. The package, every time, exactly as the setup cell: no constraints, TensorFlow not named; the
#    check fails if that install moved a pin or if the kernel would import the checkout.
setup-oldest: $(OLDEST_VENV)/.stack
	@test -n "$(OLDEST_COMMIT)" || { echo "OLDEST_REF=$(OLDEST_REF): no such commit"; exit 1; }
	$(OPY) -m pip uninstall --quiet --yes seminar_utils
	$(OPY) -m pip install --quiet "seminar_utils @ git+file://$(CURDIR)@$(OLDEST_COMMIT)"
	$(OPY) tools/ci_oldest.py check --commit $(OLDEST_COMMIT)

# Every notebook of that commit in smoke, nbval as in `make test`, in the kernel of .venv-oldest,
# from build/oldest/notebooks (no checkout beside them); own caches, artifacts (no model saved by
# the main stack's Keras is loaded) and events file; a per-notebook table at the end.
test-oldest: setup-oldest mirror
	rm -rf $(OLDEST_BUILD) && mkdir -p $(OLDEST_BUILD)
	git archive $(OLDEST_COMMIT) notebooks | tar -x -C $(OLDEST_BUILD)
	env -u PYTHONPATH $(OPY) tools/ci_oldest.py check --kernel --cwd $(OLDEST_BUILD)/notebooks
	env -u PYTHONPATH SEMINAR_PROFILE=smoke SEMINAR_CACHE_DIR=$(CURDIR)/$(OLDEST_BUILD)/cache \
	  SEMINAR_ARTIFACTS_DIR=$(CURDIR)/$(OLDEST_BUILD)/artifacts \
	  SEMINAR_RESULTS_FILE=$(CURDIR)/$(OLDEST_BUILD)/events.jsonl \
	  $(OPY) -m pytest -p no:cacheprovider -q --junitxml=$(OLDEST_BUILD)/junit.xml \
	  $(OLDEST_BUILD)/notebooks/*.ipynb; \
	  status=$$?; $(OPY) tools/ci_oldest.py report $(OLDEST_BUILD)/junit.xml; exit $$status

clean:
	rm -rf build .cache .pytest_cache
