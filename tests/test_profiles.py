import pytest

from seminar_utils import profiles
from seminar_utils.profiles import ProfileError, get_settings, resolve_profile


def test_auto_resolves_by_gpu_and_never_picks_full():
    assert resolve_profile("auto", gpu=True) == "gpu"
    assert resolve_profile("auto", gpu=False) == "quick"
    assert resolve_profile("full", gpu=False) == "full"   # full only by name


def test_env_var_is_read(monkeypatch):
    monkeypatch.setenv("SEMINAR_PROFILE", "Smoke ")
    assert resolve_profile() == "smoke"
    monkeypatch.delenv("SEMINAR_PROFILE")
    assert resolve_profile(gpu=False) == "quick"  # default is auto


def test_unknown_profile_lists_valid_ones(monkeypatch):
    with pytest.raises(ProfileError) as e:
        resolve_profile("fast")
    for name in ("auto", "full", "gpu", "quick", "smoke"):
        assert name in str(e.value)
    monkeypatch.setenv("SEMINAR_PROFILE", "nope")
    with pytest.raises(ProfileError, match="nope"):
        get_settings("01_cnn_basics")


def test_unknown_notebook_and_setting():
    with pytest.raises(ProfileError, match="01_cnn_basics"):
        get_settings("99_missing", "smoke")
    s = get_settings("01_cnn_basics", "smoke")
    with pytest.raises(AttributeError, match="known settings"):
        s.no_such_setting


@pytest.mark.parametrize("notebook", sorted(profiles.SETTINGS))
def test_profiles_only_override_shared_settings(notebook):
    blocks = profiles.SETTINGS[notebook]
    assert set(blocks) == {"shared", *profiles.PROFILES}
    for p in profiles.PROFILES:
        unknown = set(blocks[p]) - set(blocks["shared"])
        assert not unknown, (p, unknown)   # a typo in an override would silently do nothing
    assert blocks["full"] == {}, "full is the source's recipe: the shared block itself"


def _size(v):
    return float("inf") if v is None else v


@pytest.mark.parametrize("notebook", sorted(profiles.SETTINGS))
@pytest.mark.parametrize("small,large", [("smoke", "quick"), ("gpu", "full"), ("smoke", "gpu")])
def test_smaller_profiles_are_no_bigger(notebook, small, large):
    s, l = (get_settings(notebook, p) for p in (small, large))
    for key, value in s.items():
        if key.endswith(("samples", "epochs")) and (isinstance(value, int) or value is None):
            assert _size(value) <= _size(l[key]), (key, value, l[key])


@pytest.mark.parametrize("notebook", sorted(profiles.SETTINGS))
def test_gpu_profile_fits_a_class(notebook):
    minutes = get_settings(notebook, "gpu").minutes
    assert sum(minutes.values()) <= 15, minutes   # every notebook at most ~15 min on a T4


def test_heads_up_prints_only_long_steps(capsys):
    s = get_settings("03_mixup", "full")
    assert profiles.heads_up(s, "stages") == s.minutes["stages"]
    out = capsys.readouterr().out
    assert "about 120 min" in out and '"gpu"' in out and '"quick"' in out
    assert profiles.heads_up(get_settings("03_mixup", "quick"), "stages") == 4
    assert capsys.readouterr().out == ""          # 5 min or less: no message
    at_threshold = profiles.Settings({"minutes": {"stages": 5}}, "quick", "03_mixup")
    assert profiles.heads_up(at_threshold, "stages") == 5
    assert capsys.readouterr().out == ""
    assert profiles.heads_up(get_settings("03_mixup", "smoke"), "stages") is None


def test_get_settings_tells_the_recorder_which_notebook_runs():
    from seminar_utils import results
    get_settings("02_data_augmentation", "smoke")
    assert results.current_notebook() == "02_data_augmentation"


def test_settings_carry_profile_and_attribute_access():
    s = get_settings("01_cnn_basics", "quick")
    assert s.profile == "quick" and s.notebook == "01_cnn_basics"
    assert s.epochs == s["epochs"]
    assert s.min_cnn_test_accuracy >= 0.985
