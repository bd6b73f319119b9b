"""The project's files agree with each other: packaging, environment, README, CI."""

import re
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
