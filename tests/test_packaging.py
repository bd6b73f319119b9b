"""The project's files agree with each other: packaging, environment, README, CI (both stacks)."""

import importlib.util
import json
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_installs_the_package_with_existing_extras():
    env = (ROOT / "environment.yml").read_text()
    m = re.search(r'-e\s+"?\.\[([\w,\s-]+)\]"?', env)
    assert m, "environment.yml must pip-install the project (-e .[extras])"
    extras = {e.strip() for e in m.group(1).split(",")}
    declared = set(pyproject()["project"]["optional-dependencies"])
    assert extras <= declared, f"environment.yml asks for extras {extras - declared} that pyproject lacks"
    assert {"tf", "dev"} <= extras


def test_environment_python_satisfies_requires_python():
    env = (ROOT / "environment.yml").read_text()
    py = re.search(r"python\s*=\s*(\d+)\.(\d+)", env)
    req = re.search(r">=\s*(\d+)\.(\d+)", pyproject()["project"]["requires-python"])
    assert py and req and tuple(map(int, py.groups())) >= tuple(map(int, req.groups()))


def test_makefile_installs_the_same_extras():
    make = (ROOT / "Makefile").read_text()
    env = (ROOT / "environment.yml").read_text()
    extras_make = re.search(r'-e "\.\[([\w,-]+)\]"', make).group(1)
    extras_env = re.search(r'-e\s+"?\.\[([\w,\s-]+)\]"?', env).group(1).replace(" ", "")
    assert extras_make == extras_env


def test_tensorflow_is_not_a_core_dependency():
    """Colab ships TensorFlow; installing the package there must not reinstall it."""
    core = " ".join(pyproject()["project"]["dependencies"]).lower()
    assert "tensorflow" not in core, "installing the package in Colab must not reinstall TensorFlow"
    assert "keras>=3.10" in core, "Colab's older Keras is upgraded by the package's install"
    tf_extra = " ".join(pyproject()["project"]["optional-dependencies"]["tf"]).lower()
    assert "tensorflow" in tf_extra


def test_dev_extra_has_the_test_tools():
    dev = " ".join(pyproject()["project"]["optional-dependencies"]["dev"]).lower()
    for tool in ("pytest", "papermill", "nbval", "nbstripout"):
        assert tool in dev


def test_readme_commands_exist_and_ci_calls_the_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    make = (ROOT / "Makefile").read_text()
    assert re.search(r"^run:", make, re.M) and re.search(r"^test:", make, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*make test\b", ci, re.M), ".ci/run must call the README's test command"


def test_readme_course_map_lists_seven_notebooks():
    readme = (ROOT / "README.md").read_text()
    for n in range(1, 8):
        assert re.search(rf"^\|\s*0{n}\s*\|", readme, re.M), f"course map row 0{n} missing"
    for nb in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        assert nb.name in readme, f"README course map does not link {nb.name}"


# --- CI on the oldest supported stack (.venv-oldest: Colab's TensorFlow / Keras / NumPy) ---

def _ci_oldest():
    spec = importlib.util.spec_from_file_location("ci_oldest", ROOT / "tools" / "ci_oldest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _recipe(target: str) -> str:
    """The rule line and recipe of a Makefile target (up to the next blank line)."""
    make = (ROOT / "Makefile").read_text()
    m = re.search(rf"^{re.escape(target)}:.*?(?=\n\n|\Z)", make, re.M | re.S)
    assert m, f"Makefile has no target {target}"
    return m.group(0)


def test_ci_runs_the_main_stack_then_the_oldest_stack():
    ci = (ROOT / ".ci" / "run").read_text()
    main = re.search(r"^\s*make test(\s|$)", ci, re.M)
    oldest = re.search(r"^\s*make test-oldest\b", ci, re.M)
    assert main and oldest and main.start() < oldest.start()
    assert re.search(r"^rm -rf .*\.venv-oldest\b", ci, re.M), "CI must build .venv-oldest afresh"
    assert re.search(r"exit .*main_rc.*oldest_rc", ci), "a failure of either stack must fail CI"


def test_oldest_stack_pins_what_colab_ships_and_the_package_accepts():
    from packaging.requirements import Requirement
    pins = _ci_oldest().read_pins()
    assert {k: v.rsplit(".", 1)[0] for k, v in pins.items()} == \
        {"tensorflow": "2.19", "keras": "3.10", "numpy": "2.0"}
    project = pyproject()["project"]
    for line in project["dependencies"] + project["optional-dependencies"]["tf"]:
        req = Requirement(line)
        if req.name.lower() in pins:
            assert req.specifier.contains(pins[req.name.lower()]), f"{line} excludes the oldest stack"


def test_oldest_venv_pins_first_and_constrains_the_test_tools():
    stack = _recipe("$(OLDEST_VENV)/.stack")
    install = [ln for ln in stack.splitlines() if "pip install" in ln and "--upgrade pip" not in ln]
    assert install and all("-r $(OLDEST_STACK)" in ln or "-c $(OLDEST_STACK)" in ln for ln in install)
    assert any("-c $(OLDEST_STACK)" in ln and "nbval" in ln and "ipykernel" in ln for ln in install)
    assert re.search(r"^OLDEST_STACK\s*:?=\s*\.ci/colab-stack\.txt$", (ROOT / "Makefile").read_text(), re.M)


def test_oldest_venv_installs_the_package_as_the_colab_setup_cell_does():
    setup = _recipe("setup-oldest")
    line = next(ln for ln in setup.splitlines() if "pip install" in ln)
    assert '"seminar_utils @ git+' in line, "a non-editable install from git, as in Colab"
    assert " -e " not in line and " -c " not in line and "tensorflow" not in line.lower()
    cell = next(c for c in json.loads((ROOT / "notebooks" / "01_cnn_basics.ipynb").read_text())["cells"]
                if c["cell_type"] == "code")
    assert '"seminar_utils @ git+' in "".join(cell["source"]), "the setup cell changed its install"
    assert "tools/ci_oldest.py check" in setup


def test_test_oldest_runs_every_notebook_in_smoke_with_the_oldest_kernel():
    rule = _recipe("test-oldest")
    assert rule.startswith("test-oldest: setup-oldest")
    assert "git archive $(OLDEST_COMMIT) notebooks" in rule
    assert "check --kernel" in rule and "SEMINAR_PROFILE=smoke" in rule
    assert re.search(r"\$\(OPY\) -m pytest .*\n?.*notebooks/\*\.ipynb", rule)
    assert "tools/ci_oldest.py report" in rule
    dry = subprocess.run(["make", "-n", "test-oldest"], cwd=ROOT, capture_output=True, text=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    assert dry.returncode == 0, dry.stderr
    assert f'"seminar_utils @ git+file://{ROOT}@{commit}"' in dry.stdout


def test_ci_oldest_check_names_each_problem(tmp_path):
    ci = _ci_oldest()
    venv = tmp_path / "v"
    site = venv / "lib" / "site-packages"
    good = {"executable": str(venv / "bin" / "python"), "prefix": str(venv), "purelib": str(site),
            "package": str(site / "seminar_utils" / "__init__.py"),
            "direct_url": {"url": "file:///repo", "vcs_info": {"commit_id": "abc"}},
            "versions": {"tensorflow": "2.19.0", "keras": "3.10.0", "numpy": "2.0.2"}}
    pins = {"tensorflow": "2.19.0", "keras": "3.10.0", "numpy": "2.0.2"}
    assert ci.stack_problems(good, pins, venv, "abc") == []
    bad = dict(good, versions=dict(good["versions"], keras="3.15.1"),
               package=str(ROOT / "seminar_utils" / "__init__.py"),
               direct_url={"url": "file:///repo", "dir_info": {"editable": True}})
    problems = "\n".join(ci.stack_problems(bad, pins, venv, "abc"))
    assert "keras 3.15.1 is imported, the pin is 3.10.0" in problems
    assert f"imported from {ROOT / 'seminar_utils'}" in problems
    assert "editable" in problems and "not abc" in problems
    assert "runs in" in "\n".join(ci.stack_problems(good, pins, tmp_path / "other"))


def test_ci_oldest_report_has_one_row_per_notebook(tmp_path):
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<testsuites><testsuite name="pytest">'
        '<testcase classname="build.oldest.notebooks.01_cnn_basics.ipynb" name="Cell 0" time="2.5"/>'
        '<testcase classname="build.oldest.notebooks.01_cnn_basics.ipynb" name="Cell 1" time="1.0"/>'
        '<testcase classname="build.oldest.notebooks.03_mixup.ipynb" name="Cell 7" time="4"/>'
        '<testcase classname="build.oldest.notebooks.03_mixup.ipynb" name="Cell 8" time="0.5">'
        '<failure message="Notebook cell execution failed">Traceback\n'
        "#x1B[31mAttributeError#x1B[39m: module 'm' has no attribute 'f'\nmore</failure></testcase>"
        '</testsuite></testsuites>')
    rows = _ci_oldest().notebook_report(junit)
    assert [(r["notebook"], r["cells"], r["failed"]) for r in rows] == \
        [("01_cnn_basics", 2, 0), ("03_mixup", 2, 1)]
    assert rows[0]["seconds"] == 3.5 and rows[0]["first_failure"] == ""
    assert rows[1]["first_failure"] == "Cell 8: AttributeError: module 'm' has no attribute 'f'"
