import pytest

from seminar_utils import profiles
from seminar_utils.profiles import ProfileError, get_settings, resolve_profile


def test_auto_resolves_by_gpu():
    assert resolve_profile("auto", gpu=True) == "full"
    assert resolve_profile("auto", gpu=False) == "quick"


def test_env_var_is_read(monkeypatch):
    monkeypatch.setenv("SEMINAR_PROFILE", "Smoke ")
    assert resolve_profile() == "smoke"
    monkeypatch.delenv("SEMINAR_PROFILE")
    assert resolve_profile(gpu=False) == "quick"  # default is auto


def test_unknown_profile_lists_valid_ones(monkeypatch):
    with pytest.raises(ProfileError) as e:
        resolve_profile("fast")
    for name in ("auto", "full", "quick", "smoke"):
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
def test_every_profile_defines_the_same_settings(notebook):
    keys = {p: set(profiles.SETTINGS[notebook][p]) for p in profiles.PROFILES}
    assert keys["full"] == keys["quick"] == keys["smoke"], keys


@pytest.mark.parametrize("notebook", sorted(profiles.SETTINGS))
def test_smoke_is_no_bigger_than_quick(notebook):
    quick, smoke = (profiles.SETTINGS[notebook][p] for p in ("quick", "smoke"))
    for key, value in smoke.items():
        if key.endswith(("samples", "epochs")) and isinstance(value, int):
            q = quick[key]
            assert q is None or value <= q, (key, value, q)


def test_settings_carry_profile_and_attribute_access():
    s = get_settings("01_cnn_basics", "quick")
    assert s.profile == "quick" and s.notebook == "01_cnn_basics"
    assert s.epochs == s["epochs"]
    assert s.min_cnn_test_accuracy >= 0.985
