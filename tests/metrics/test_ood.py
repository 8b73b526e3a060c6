"""OOD scores against independent references (scipy, sklearn) in float64; detector round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy.spatial.distance import mahalanobis
from scipy.special import logsumexp, softmax
from sklearn.metrics import roc_auc_score

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.metrics.ood import (
    OODDetector,
    auroc,
    energy_score,
    fit_class_gaussians,
    load_ood_detector,
    mahalanobis_score,
    max_cosine_score,
    msp_score,
)


def test_msp_and_energy_match_scipy():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(7, 5))
    got_msp = msp_score(torch.from_numpy(logits)).numpy()
    np.testing.assert_allclose(got_msp, -softmax(logits, axis=-1).max(-1), rtol=0, atol=1e-12)
    for temperature in (1.0, 0.1, 4.0):
        got = energy_score(torch.from_numpy(logits), temperature=temperature).numpy()
        want = -temperature * logsumexp(logits / temperature, axis=-1)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    with pytest.raises(ParameterError, match="temperature=0"):
        energy_score(torch.from_numpy(logits), temperature=0)


@pytest.mark.parametrize("ties", [False, True])
def test_auroc_matches_sklearn(ties):
    rng = np.random.default_rng(1)
    inside = rng.normal(size=200)
    outside = rng.normal(loc=1.0, size=70)
    if ties:  # coarse values: many ties within and across the two sets
        inside, outside = np.round(inside), np.round(outside)
    want = roc_auc_score(
        np.r_[np.zeros(len(inside)), np.ones(len(outside))], np.r_[inside, outside]
    )
    got = auroc(torch.from_numpy(inside), torch.from_numpy(outside))
    assert got == pytest.approx(want, abs=1e-12)
    assert auroc(torch.zeros(3), torch.ones(2)) == 1.0
    assert auroc(torch.ones(3), torch.zeros(2)) == 0.0
    with pytest.raises(ParameterError, match="at least one score"):
        auroc(torch.zeros(0), torch.ones(2))


def test_fit_class_gaussians_and_mahalanobis_match_numpy_and_scipy():
    rng = np.random.default_rng(2)
    labels = np.repeat(np.arange(3), 40)
    x = rng.normal(size=(120, 4)) @ rng.normal(size=(4, 4)) + labels[:, None] * 2.0
    shrinkage = 0.2
    means, precision = fit_class_gaussians(
        torch.from_numpy(x), torch.from_numpy(labels), shrinkage=shrinkage
    )
    want_means = np.stack([x[labels == k].mean(0) for k in range(3)])
    centred = x - want_means[labels]
    covariance = centred.T @ centred / len(x)
    covariance = (1 - shrinkage) * covariance + shrinkage * np.trace(covariance) / 4 * np.eye(4)
    np.testing.assert_allclose(means.numpy(), want_means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(precision.numpy(), np.linalg.inv(covariance), rtol=1e-9, atol=1e-12)
    queries = rng.normal(scale=3.0, size=(9, 4))
    got = mahalanobis_score(torch.from_numpy(queries), means=means, precision=precision).numpy()
    vi = np.linalg.inv(covariance)
    want = [min(mahalanobis(q, m, vi) for m in want_means) for q in queries]
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_max_cosine_score():
    means = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    features = torch.tensor([[3.0, 0.0], [1.0, 1.0], [-1.0, 0.0]], dtype=torch.float64)
    got = max_cosine_score(features, means=means)
    torch.testing.assert_close(got, torch.tensor([-1.0, -(0.5**0.5), 0.0], dtype=torch.float64))


def test_fit_errors_name_the_argument():
    x = torch.randn(10, 3)
    with pytest.raises(ParameterError, match="shrinkage=1.5"):
        fit_class_gaussians(x, shrinkage=1.5)
    with pytest.raises(ParameterError, match=r"classes \[1\] are empty"):
        fit_class_gaussians(x, torch.tensor([0, 2] * 5))
    with pytest.raises(ParameterError, match="score='nope'"):
        OODDetector("nope", 0.0, 99.0)
    with pytest.raises(ParameterError, match="percentile=0"):
        OODDetector.fit("msp", logits=x, percentile=0)


def _fitted(tmp_path, score="mahalanobis"):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(200, 6, generator=generator)
    labels = torch.arange(200) % 4
    means, precision = fit_class_gaussians(x, labels, shrinkage=0.1)
    calibration = torch.randn(100, 6, generator=generator)
    kwargs = {"means": means}
    if score == "mahalanobis":
        kwargs["precision"] = precision
    detector = OODDetector.fit(
        score, features=calibration, percentile=95.0, info={"fit": "unit test"}, **kwargs
    )
    return detector, calibration


@pytest.mark.parametrize("score", ["mahalanobis", "max_cosine", "energy"])
def test_detector_threshold_and_reload_identically(tmp_path, score):
    (tmp_path / "model.safetensors").write_bytes(b"weights")
    detector, calibration = _fitted(tmp_path, score)
    values = detector.scores(features=calibration)
    # the 95th percentile: 5 of 100 held-out scores lie above the threshold
    assert int(detector.is_ood(values).sum()) == 5
    written = detector.save(tmp_path)
    assert sorted(p.name for p in written) == ["ood.json", "ood.safetensors"]
    record = json.loads((tmp_path / "ood.json").read_text())
    assert record["score"] == score and record["percentile"] == 95.0
    assert record["info"] == {"fit": "unit test"}
    loaded = load_ood_detector(tmp_path)
    assert loaded is not None and loaded.score == score
    assert loaded.threshold == detector.threshold
    queries = torch.randn(20, 6, generator=torch.Generator().manual_seed(1)) * 3
    torch.testing.assert_close(loaded.scores(features=queries), detector.scores(features=queries))
    assert torch.equal(
        loaded.is_ood(loaded.scores(features=queries)),
        detector.is_ood(detector.scores(features=queries)),
    )
    for name in ("means", "precision"):
        if getattr(detector, name) is not None:
            assert torch.equal(getattr(loaded, name), getattr(detector, name).float())


def test_sequence_logits_average_over_valid_steps():
    logits = torch.randn(2, 4, 5, dtype=torch.float64)
    detector = OODDetector("energy", 0.0, 99.0, temperature=2.0)
    got = detector.scores(logits=logits, logits_lengths=torch.tensor([4, 2]))
    per_step = energy_score(logits, temperature=2.0)
    torch.testing.assert_close(got, torch.stack([per_step[0].mean(), per_step[1, :2].mean()]))


def test_stale_detector_is_ignored_with_a_warning(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"old weights")
    detector, _ = _fitted(tmp_path)
    detector.info["command"] = "python benchmarks/ood.py --fit embed --model X"
    detector.save(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"retrained weights")
    with pytest.warns(UserWarning, match="fitted for other weights.*--fit embed"):
        assert load_ood_detector(tmp_path) is None
    assert load_ood_detector(tmp_path / "missing") is None


def test_damaged_detector_file_is_a_checkpoint_error(tmp_path):
    detector, _ = _fitted(tmp_path)
    detector.save(tmp_path)
    (tmp_path / "ood.safetensors").unlink()
    with pytest.raises(CheckpointError, match="ood.safetensors"):
        load_ood_detector(tmp_path)
    (tmp_path / "ood.json").write_text("{}")
    with pytest.raises(CheckpointError, match="keys"):
        load_ood_detector(tmp_path)
