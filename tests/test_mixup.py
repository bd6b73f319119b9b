"""Tests of seminar_utils.mixup: Beta draws, mixing a batch, mixup in tf.data (new draws each epoch)."""

from __future__ import annotations

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from seminar_utils import mixup as M  # noqa: E402


def _batches(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle_seed: int | None = None):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle_seed is not None:
        ds = ds.shuffle(len(x), seed=shuffle_seed, reshuffle_each_iteration=True)
    return ds.batch(batch_size)


def test_beta_samples_match_theory():
    alpha = 0.2
    lam = M.sample_beta(alpha, 200_000, seed=0).numpy()
    assert np.isfinite(lam).all() and lam.min() >= 0 and lam.max() <= 1
    assert lam.mean() == pytest.approx(0.5, abs=0.005)
    assert lam.var() == pytest.approx(1 / (4 * (2 * alpha + 1)), abs=0.003)  # 0.1786
    # U-shaped for alpha < 1: most mass near 0 and 1
    assert ((lam < 0.1) | (lam > 0.9)).mean() > 0.6
    unseeded = M.sample_beta(alpha, 50_000).numpy()
    assert unseeded.mean() == pytest.approx(0.5, abs=0.01)


def test_beta_seeds():
    a = M.sample_beta(0.2, 100, seed=5).numpy()
    np.testing.assert_array_equal(a, M.sample_beta(0.2, 100, seed=5).numpy())
    assert not np.allclose(a, M.sample_beta(0.2, 100, seed=6).numpy())
    np.testing.assert_array_equal(a, M.sample_beta(0.2, 100, seed=tf.constant([5, 0])).numpy())
    with pytest.raises(ValueError, match="alpha"):
        M.sample_beta(0.0, 3)


def test_mixup_batch_mixes_images_and_labels_alike():
    n = 8
    values = np.arange(n, dtype="float32") * 30.0  # image i is constant 30 * i, class i
    x = np.broadcast_to(values[:, None, None, None], (n, 4, 4, 3)).copy()
    y = np.eye(n, dtype="float32")
    mx, my, lam = (t.numpy() for t in M.mixup_batch(x, y, alpha=0.2, seed=1, return_lambda=True))
    assert mx.shape == x.shape and my.shape == y.shape
    np.testing.assert_allclose(my.sum(axis=1), 1.0, atol=1e-6)
    assert lam.min() >= 0 and lam.max() <= 1
    assert mx.min() >= 0 and mx.max() <= values.max()
    # each mixed image is the label-weighted mix of the originals, and keeps weight lam on itself
    np.testing.assert_allclose(mx[:, 0, 0, 0], my @ values, rtol=1e-5, atol=1e-3)
    assert np.all(np.diag(my) >= lam - 1e-6)
    # integer labels need num_classes; with it they are one-hot encoded
    with pytest.raises(ValueError, match="num_classes"):
        M.mixup_batch(x, np.arange(n))
    _, yi = M.mixup_batch(x, np.arange(n)[:, None], num_classes=n, seed=1)
    np.testing.assert_allclose(yi.numpy(), my, atol=1e-6)
    # seeds: same -> same, different -> different
    np.testing.assert_array_equal(M.mixup_batch(x, y, seed=1)[0].numpy(), mx)
    assert not np.allclose(M.mixup_batch(x, y, seed=2)[0].numpy(), mx)


def test_mixup_stays_in_range_at_extremes():
    x = np.where(np.random.default_rng(0).random((16, 8, 8, 3)) > 0.5, 255.0, 0.0).astype("float32")
    y = np.eye(4, dtype="float32")[np.arange(16) % 4]
    mx, _ = M.mixup_batch(x, y, alpha=0.2, seed=3)
    assert mx.numpy().min() >= 0.0 and mx.numpy().max() <= 255.0


@pytest.mark.parametrize("partner", [False, True])
def test_mixup_dataset(partner):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (20, 8, 8, 3)).astype("float32")
    y = (np.arange(20) % 5).astype("int64")

    def pipeline(seed):
        ds = _batches(x, y, 8, shuffle_seed=0)
        other = _batches(x, y, 8, shuffle_seed=1) if partner else None
        return M.mixup_dataset(ds, 0.2, num_classes=5, seed=seed, partner=other)

    def run(seed):
        return [(a.numpy(), b.numpy()) for a, b in pipeline(seed)]

    batches = run(0)
    assert [b[0].shape[0] for b in batches] == [8, 8, 4]
    for bx, by in batches:
        assert by.shape[1] == 5 and by.dtype == np.float32
        np.testing.assert_allclose(by.sum(axis=1), 1.0, atol=1e-6)
        assert bx.min() >= 0 and bx.max() <= 255
    again = run(0)  # same seed, a fresh pipeline: same draws
    np.testing.assert_array_equal(batches[0][1], again[0][1])
    np.testing.assert_array_equal(batches[-1][0], again[-1][0])
    unseeded = list(pipeline(None))
    np.testing.assert_allclose(unseeded[0][1].numpy().sum(axis=1), 1.0, atol=1e-6)


# --------------------------------------------------------------------------- new draws every epoch (issue 10)

N, BATCH = 64, 16


def _identity_batches(shuffle_seed: int | None = None):
    """Example i: a constant image of value i with the one-hot label i, so a mix can be read back."""
    x = np.broadcast_to(np.arange(N, dtype="float32")[:, None, None, None], (N, 2, 2, 1)).copy()
    return _batches(x, np.eye(N, dtype="float32"), BATCH, shuffle_seed)


def _read_epoch(ds) -> tuple[np.ndarray, set]:
    """One epoch of an unshuffled identity dataset, mixed: (lambda of each example, NaN where it
    was paired with itself), and the set of in-batch pairings (one permutation per batch)."""
    y = np.concatenate([b[1].numpy() for b in ds])
    own = np.arange(N)
    other = y.copy()
    other[own, own] = 0
    paired = other.max(axis=1) > 0
    partner = np.where(paired, other.argmax(axis=1), own)
    lam = np.where(paired, y[own, own], np.nan)
    return lam, {tuple(partner[k:k + BATCH] - k) for k in range(0, N, BATCH)}


def _share_repeated(first, second) -> tuple[float, float]:
    """Share of epoch 2's lambdas found anywhere in epoch 1, and of its pairings."""
    (lam1, perms1), (lam2, perms2) = first, second
    lam1, lam2 = lam1[~np.isnan(lam1)], lam2[~np.isnan(lam2)]
    lam_share = float(np.mean([np.isclose(lam1, v, rtol=0, atol=1e-6).any() for v in lam2]))
    return lam_share, len(perms1 & perms2) / len(perms2)


@pytest.mark.parametrize("partner", [False, True])
@pytest.mark.parametrize("seed", [None, 0])
def test_mixup_dataset_draws_anew_every_epoch_after_set_seed(partner, seed):
    keras.utils.set_random_seed(42)  # what every notebook does (train.set_seed)
    ds = M.mixup_dataset(_identity_batches(), alpha=1.0, seed=seed,
                         partner=_identity_batches(shuffle_seed=1) if partner else None)
    first, second = _read_epoch(ds), _read_epoch(ds)
    assert np.isfinite(first[0]).sum() > N // 2  # most examples were mixed with another one
    lam_share, pairing_share = _share_repeated(first, second)
    assert lam_share < 0.05, f"{lam_share:.0%} of epoch 2's lambdas are epoch 1's"
    if not partner:  # with a partner the pairing is the partner's own shuffle
        assert pairing_share == 0, f"{pairing_share:.0%} of epoch 2's pairings are epoch 1's"


@pytest.mark.parametrize("partner", [False, True])
def test_mixup_dataset_int_seed_is_reproducible(partner):
    def first_epoch():
        keras.utils.set_random_seed(42)
        ds = M.mixup_dataset(_identity_batches(), alpha=1.0, seed=3,
                             partner=_identity_batches(shuffle_seed=1) if partner else None)
        return np.concatenate([b[1].numpy() for b in ds])

    np.testing.assert_array_equal(first_epoch(), first_epoch())
