"""tools/compare_runs.py: an identical run passes, a drop beyond tolerance fails, other data is refused."""

import copy
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import compare_runs  # noqa: E402

SPREAD = {"03_mixup": {"metrics": {
    "mixup test accuracy": {"kind": "accuracy", "mean": 0.52, "std": 0.01, "values": [0.51, 0.52, 0.53]},
    "baseline test accuracy": {"kind": "accuracy", "mean": 0.48, "std": 0.02, "values": [0.46, 0.48, 0.5]},
    "training seconds": {"kind": "seconds", "mean": 100.0, "std": 5.0, "values": [95, 100, 105]},
}}}


def run(profile="quick", mixup=0.52, baseline=0.48, seconds=100.0, params=93322, check_ok=True,
        cifar="mirror"):
    return {"context": {"profile": profile, "keras": "3.15.1"}, "notebooks": {"03_mixup": {
        "ok": True, "error": None, "wall_seconds": 300.0,
        "assets": {"CIFAR-10": cifar},
        "checks": [{"name": "mixup gain", "value": mixup - baseline, "target": 0.0, "op": ">",
                    "ok": check_ok}],
        "metrics": {"mixup test accuracy": {"value": mixup, "kind": "accuracy"},
                    "baseline test accuracy": {"value": baseline, "kind": "accuracy"},
                    "training seconds": {"value": seconds, "kind": "seconds"},
                    "model parameters": {"value": params, "kind": "count"}}}}}


@pytest.fixture(autouse=True)
def _spread(monkeypatch):
    monkeypatch.setattr(compare_runs, "_spread_file", lambda profile: copy.deepcopy(SPREAD))


def _files(tmp_path, base, cur):
    b, c = tmp_path / "base.json", tmp_path / "cur.json"
    b.write_text(json.dumps(base))
    c.write_text(json.dumps(cur))
    return str(b), str(c)


def test_an_identical_run_passes(tmp_path, capsys):
    assert compare_runs.main(list(_files(tmp_path, run(), run()))) == 0
    out = capsys.readouterr().out
    assert "mixup test accuracy" in out and "WORSE" not in out
    assert "4 results compared: 0 moved beyond tolerance" in out


def test_tolerance_is_three_seed_standard_deviations():
    rows = {r["metric"]: r for r in compare_runs.compare(run(), run(mixup=0.50, baseline=0.40))}
    # 3 x its own std (0.01), floored by the median std of accuracies (0.015): three seeds that
    # happened to agree do not make a metric exact
    assert rows["mixup test accuracy"]["tolerance"] == pytest.approx(0.045)
    assert rows["mixup test accuracy"]["verdict"] == "ok"                        # -0.02: noise
    assert rows["baseline test accuracy"]["tolerance"] == pytest.approx(0.06)   # 3 x 0.02
    assert rows["baseline test accuracy"]["verdict"] == "WORSE"                  # -0.08
    assert rows["model parameters"]["tolerance"] == 0                            # counts: exact


def test_lowered_accuracies_fail_and_are_drawn(tmp_path, capsys):
    base, cur = _files(tmp_path, run(), run(mixup=0.45, check_ok=False))
    assert compare_runs.main([base, cur, "--figure", str(tmp_path / "drift.png")]) == 1
    out = capsys.readouterr().out
    assert "! " in out and "WORSE" in out and "check: mixup gain" in out
    assert (tmp_path / "drift.png").stat().st_size > 5000


def test_better_results_and_slower_runs_do_not_fail():
    rows = {r["metric"]: r for r in compare_runs.compare(run(), run(mixup=0.60, seconds=200.0))}
    assert rows["mixup test accuracy"]["verdict"] == "better"
    assert rows["training seconds"]["verdict"] == "slower"       # reported, not failing
    assert rows["training seconds"]["tolerance"] == pytest.approx(15.0)   # 3 x 5 / 100 relative
    assert not compare_runs.failed(list(rows.values()))


def test_a_changed_count_fails():
    rows = compare_runs.compare(run(), run(params=93323))
    assert {r["metric"]: r["verdict"] for r in rows}["model parameters"] == "CHANGED"


def test_other_data_or_another_profile_is_refused(tmp_path, capsys):
    assert compare_runs.main(list(_files(tmp_path, run(), run(cifar="stand-in")))) == 2
    out = capsys.readouterr().out
    assert "Not comparable" in out and "CIFAR-10 was mirror in the baseline, stand-in now" in out
    assert compare_runs.main(list(_files(tmp_path, run(), run(profile="smoke")))) == 2
    assert "profile 'quick', this run in 'smoke'" in capsys.readouterr().out
    # A download and Keras's cache hold the same file: comparable.
    compare_runs.check_comparable(run(cifar="download"), run(cifar="cache"))


def test_a_clean_run_is_adopted_as_the_baseline_and_a_failed_one_is_not(tmp_path):
    base, cur = _files(tmp_path, run(), run(mixup=0.55))
    assert compare_runs.main([base, cur, "--adopt", "make test on the mirror"]) == 0
    adopted = json.loads(Path(base).read_text())
    assert adopted["context"]["how"] == "make test on the mirror"
    assert adopted["notebooks"]["03_mixup"]["metrics"]["mixup test accuracy"]["value"] == 0.55
    assert compare_runs.main([base, cur]) == 0                  # the adopted run compares clean
    broken = run()
    broken["notebooks"]["03_mixup"]["ok"] = False
    Path(cur).write_text(json.dumps(broken))
    with pytest.raises(SystemExit, match="03_mixup failed"):
        compare_runs.main([base, cur, "--adopt", "x"])


def test_the_shipped_baselines_are_clean_runs_of_their_profile_on_the_mirror():
    for profile in ("smoke", "quick"):
        path = ROOT / "data" / "reference" / f"baseline_{profile}.json"
        payload = json.loads(path.read_text())
        assert payload["context"]["profile"] == profile and payload["context"]["how"]
        assert len(payload["notebooks"]) == 7
        assert all(r["ok"] for r in payload["notebooks"].values())
        for nb, r in payload["notebooks"].items():            # real data, never a stand-in dataset
            data = {k: v for k, v in r["assets"].items() if "weights" not in k.lower()}
            assert data and all(v == "mirror" for v in data.values()), (nb, r["assets"])
