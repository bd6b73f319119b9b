import matplotlib

matplotlib.use("Agg")

import keras
import numpy as np
import pytest
from keras import layers

from seminar_utils import plots
from seminar_utils.models import count_params, layer_table
from seminar_utils import results
from seminar_utils.train import CheckFailed, CheckMissed, TimingCallback, expect, set_seed, strict


# ------------------------------------------------------------------ train
def test_expect_prints_and_passes(capsys):
    assert expect("acc", 0.99, 0.985, profile="quick") == 0.99
    out = capsys.readouterr().out
    assert "CHECK acc: 0.9900 >= 0.9850 (quick) ... OK" in out


@pytest.fixture
def strict_run(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("SEMINAR_STRICT", "1")


@pytest.fixture
def learner_run(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("SEMINAR_STRICT", raising=False)


def test_strict_means_ci_or_seminar_strict(monkeypatch, learner_run):
    assert strict() is False
    monkeypatch.setenv("CI", "true")
    assert strict() is True
    monkeypatch.setenv("CI", "false")
    monkeypatch.setenv("SEMINAR_STRICT", "1")
    assert strict() is True


def test_expect_raises_when_missed_in_a_strict_run(capsys, strict_run):
    with pytest.raises(CheckFailed, match="FAILED"):
        expect("acc", 0.90, 0.985, profile="quick")
    assert "0.9000 >= 0.9850" in capsys.readouterr().out
    with pytest.raises(CheckFailed):
        expect("params", 10, 5, op="<=")
    with pytest.raises(ValueError, match="Unknown comparison"):
        expect("x", 1, 1, op="~")
    expect("close", 0.5001, 0.5, op="==", tolerance=1e-3)


def test_a_missed_check_warns_and_goes_on_in_a_learners_run(capsys, learner_run):
    with pytest.warns(CheckMissed, match="acc: 0.9000 >= 0.9850"):
        value = expect("acc", 0.90, 0.985, profile="quick", hint="too few epochs for this model")
    assert value == 0.90                    # the notebook goes on with the measured value
    out = capsys.readouterr().out
    assert "... MISSED" in out and "FAILED" not in out
    assert "too few epochs for this model" in out          # the caller's likely cause
    assert "quick profile trains on less data" in out      # and the profile's


def test_a_miss_names_the_stand_in_assets(capsys, learner_run):
    saved = dict(results._state["assets"])          # earlier tests may have recorded stand-ins
    results._state["assets"].clear()
    results._record_asset("MNIST", "stand-in", "generated digits")
    try:
        with pytest.warns(CheckMissed):
            expect("acc", 0.2, 0.9)
        assert "stand-ins were used for MNIST (see the asset report)" in capsys.readouterr().out
    finally:
        results._state["assets"].clear()
        results._state["assets"].update(saved)


def test_checks_and_metrics_are_recorded_when_a_results_file_is_set(tmp_path, monkeypatch,
                                                                     learner_run):
    path = tmp_path / "events.jsonl"
    monkeypatch.setenv(results.ENV_RESULTS, str(path))
    from seminar_utils.profiles import get_settings
    get_settings("01_cnn_basics", "smoke")
    expect("acc", 0.99, 0.985, profile="smoke")
    with pytest.warns(CheckMissed):
        expect("loss", 0.7, 0.5, op="<=")
    results.record("CNN test accuracy", np.float32(0.9875), "accuracy")
    events = results.read_events(path)
    assert [e["type"] for e in events] == ["check", "check", "metric"]
    assert all(e["notebook"] == "01_cnn_basics" and e["profile"] == "smoke" for e in events)
    assert events[0]["ok"] is True and events[1]["ok"] is False and events[1]["op"] == "<="
    assert events[2]["value"] == pytest.approx(0.9875) and events[2]["kind"] == "accuracy"
    with open(path, "a") as f:
        f.write('{"type": "metric", "na')          # a line cut short by a killed kernel
    assert len(results.read_events(path)) == 3
    with pytest.raises(ValueError, match="Unknown kind"):
        results.record("x", 1, "speed")


def test_nothing_is_written_without_a_results_file(tmp_path, monkeypatch):
    monkeypatch.delenv(results.ENV_RESULTS, raising=False)
    monkeypatch.chdir(tmp_path)
    results.record("x", 1.0)
    assert list(tmp_path.iterdir()) == []


def test_timing_callback_records_each_epoch():
    set_seed(0)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    cb = TimingCallback()
    h = model.fit(np.ones((8, 3)), np.ones(8), epochs=3, verbose=0, callbacks=[cb])
    assert len(cb.epoch_seconds) == 3 and all(t > 0 for t in cb.epoch_seconds)
    assert cb.total_seconds >= sum(cb.epoch_seconds) * 0.99
    assert len(h.history["epoch_seconds"]) == 3


def test_set_seed_makes_weights_reproducible():
    def weights():
        set_seed(123)
        return keras.Sequential([keras.Input((4,)), layers.Dense(3)]).get_weights()[0]
    np.testing.assert_array_equal(weights(), weights())


# ------------------------------------------------------------------ models
def test_layer_table_and_counts_with_batchnorm():
    m = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3, name="c"),
                          layers.BatchNormalization(name="bn"), layers.GlobalAveragePooling2D(name="g"),
                          layers.Dense(2, name="d")])
    c = count_params(m)
    assert c == {"total": 112 + 16 + 10, "trainable": 112 + 8 + 10, "non_trainable": 8}
    table = layer_table(m)
    text = str(table)
    assert text.splitlines()[2] == "c      Conv2D                  (None, 6, 6, 4)     112"
    assert text.splitlines()[-1] == "total params: 138 (trainable 130, non-trainable 8)"
    assert table.column("params") == [112, 16, 0, 10]
    assert "<td style=\"text-align:right\">112</td>" in table._repr_html_()


# ------------------------------------------------------------------ plots
def test_plot_history_single_and_several_runs():
    h = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.8, 0.9],
         "accuracy": [0.5, 0.7, 0.8], "val_accuracy": [0.5, 0.6, 0.6]}
    fig = plots.plot_history(h)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    assert len(fig.axes[0].lines) == 2
    np.testing.assert_allclose(fig.axes[1].lines[1].get_ydata(), h["val_accuracy"])
    fig = plots.plot_history({"a": h, "b": h})
    assert len(fig.axes[0].lines) == 4
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == \
        {"a train", "a validation", "b train", "b validation"}


def test_image_grid_marks_wrong_predictions_red():
    imgs = np.zeros((3, 5, 5, 3), np.uint8)
    fig = plots.image_grid(imgs, [0, 1, 1], class_names=["cat", "dog"], predictions=[0, 0, 1], ncols=3)
    titles = [ax.title for ax in fig.axes]
    assert [t.get_text().split("\n")[0] for t in titles] == ["cat", "dog", "dog"]
    assert [t.get_color() for t in titles] == ["green", "red", "green"]


def test_confusion_matrix_counts_and_plot():
    m = plots.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 2, 0], n_classes=3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    fig = plots.plot_confusion_matrix([0, 0, 1], [0, 1, 1], ["a", "b"])
    texts = sorted(t.get_text() for t in fig.axes[0].texts)
    assert texts == ["0.00", "0.50", "0.50", "1.00"]


def test_reading_separates_the_sign_from_the_size_of_an_effect():
    assert results.reading({}) == results.reading(None) == "(no seed spread measured for this profile)"
    assert results.reading({"values": [0.03], "mean": 0.03, "std": 0.0}).startswith("(no seed spread")
    steady = {"values": [0.03, 0.035, 0.04], "mean": 0.035, "std": 0.005}
    assert results.reading(steady) == "beyond noise: every seed agrees on its sign"
    losses = {"values": [-0.6, -0.5, -0.55], "mean": -0.55, "std": 0.05}   # a steady fall counts too
    assert results.reading(losses) == "beyond noise: every seed agrees on its sign"
    wide = {"values": [0.015, 0.024, 0.042], "mean": 0.027, "std": 0.014}
    assert results.reading(wide) == "every seed agrees on its sign; its size varies from seed to seed"
    mixed = {"values": [-0.010, -0.001, 0.011], "mean": -0.001, "std": 0.011}
    assert results.reading(mixed) == "within noise: the seeds disagree on its sign"
