"""dB conversions and MFCC against librosa in float64."""

import librosa
import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional import (
    amplitude_to_db,
    db_to_amplitude,
    db_to_power,
    mfcc,
    power_to_db,
)


def _power():
    return np.random.default_rng(0).exponential(size=(40, 30)) * np.logspace(-12, 2, 30)


@pytest.mark.parametrize(
    "ref,amin,top_db", [(1.0, 1e-10, 80.0), (2.5, 1e-6, None), ("max", 1e-10, 40.0)]
)
def test_power_to_db_matches_librosa(ref, amin, top_db):
    s = _power()
    ours = power_to_db(torch.from_numpy(s), ref=ref, amin=amin, top_db=top_db).numpy()
    expected = librosa.power_to_db(s, ref=np.max if ref == "max" else ref, amin=amin, top_db=top_db)
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-10)


@pytest.mark.parametrize(
    "ref,amin,top_db", [(1.0, 1e-5, 80.0), (0.5, 1e-3, None), ("max", 1e-5, 60.0)]
)
def test_amplitude_to_db_matches_librosa(ref, amin, top_db):
    s = np.sqrt(_power())
    ours = amplitude_to_db(torch.from_numpy(s), ref=ref, amin=amin, top_db=top_db).numpy()
    expected = librosa.amplitude_to_db(
        s, ref=np.max if ref == "max" else ref, amin=amin, top_db=top_db
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-10)


def test_db_inverses_match_librosa():
    db = np.linspace(-80, 20, 101)
    np.testing.assert_allclose(
        db_to_power(torch.from_numpy(db), ref=2.0).numpy(),
        librosa.db_to_power(db, ref=2.0),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        db_to_amplitude(torch.from_numpy(db), ref=0.5).numpy(),
        librosa.db_to_amplitude(db, ref=0.5),
        rtol=1e-12,
    )
    s = torch.from_numpy(_power())
    back = db_to_power(power_to_db(s, ref=1.0, amin=1e-30, top_db=None), ref=1.0)
    torch.testing.assert_close(back, s, rtol=1e-10, atol=0)


def test_top_db_is_per_item_so_batched_equals_per_item():
    s = torch.from_numpy(np.stack([_power(), 1e-6 * _power()]))
    batched = power_to_db(s, ref=1.0, amin=1e-10, top_db=80.0)
    for i in range(2):
        torch.testing.assert_close(batched[i], power_to_db(s[i], ref=1.0, amin=1e-10, top_db=80.0))


def test_db_gradcheck():
    s = (torch.rand(3, 5, dtype=torch.float64) + 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(
        lambda t: power_to_db(t, ref=1.0, amin=1e-10, top_db=None), (s,)
    )
    assert torch.autograd.gradcheck(
        lambda t: amplitude_to_db(t, ref=2.0, amin=1e-5, top_db=None), (s,)
    )


@pytest.mark.parametrize("lifter", [0.0, 22.0])
def test_mfcc_matches_librosa(lifter):
    x = np.random.default_rng(3).standard_normal((2, 6000))
    kw = dict(
        n_fft=512,
        hop_length=128,
        win_length=512,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=2.0,
        n_mels=64,
    )
    ours = mfcc(
        torch.from_numpy(x),
        sample_rate=16000,
        n_mfcc=20,
        lifter=lifter,
        amin=1e-10,
        top_db=80.0,
        f_min=0.0,
        f_max=8000.0,
        mel_scale="slaney",
        norm="slaney",
        **kw,
    ).numpy()
    ref = np.stack(
        [
            librosa.feature.mfcc(
                y=xi,
                sr=16000,
                n_mfcc=20,
                dct_type=2,
                norm="ortho",
                lifter=lifter,
                fmin=0.0,
                fmax=8000.0,
                htk=False,
                mel_norm="slaney",
                dtype=np.float64,
                **kw,
            )
            for xi in x
        ]
    )
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8 * np.abs(ref).max())


def test_errors_name_the_argument():
    s = torch.rand(4, 4)
    with pytest.raises(ParameterError, match="amin=0"):
        power_to_db(s, amin=0)
    with pytest.raises(ParameterError, match="top_db=-1"):
        power_to_db(s, top_db=-1)
    with pytest.raises(ParameterError, match="ref=-2"):
        amplitude_to_db(s, ref=-2)
    with pytest.raises(ParameterError, match="n_mfcc=200"):
        mfcc(torch.randn(4000), sample_rate=16000, n_mfcc=200, n_mels=40)
    with pytest.raises(ParameterError, match="lifter"):
        mfcc(torch.randn(4000), sample_rate=16000, lifter=-1)


# -- issue #19: amin > ref, lifter validation, per-spectrogram peak -----------------------
_REFS = [1.0, 0.5, 2.5, 1e-12, 1e3, "max"]
_AMINS = [1e-10, 1e-5, 1.0, 1e3]


@pytest.mark.parametrize("top_db", [None, 80.0, 10.0])
@pytest.mark.parametrize("amin", _AMINS)
@pytest.mark.parametrize("ref", _REFS)
def test_power_to_db_matches_librosa_over_ref_amin_grid(ref, amin, top_db):
    # includes amin > ref (e.g. ref=1.0, amin=1e3), where 10 log10(max(amin, ref)) != 0
    s = _power()
    ours = power_to_db(torch.from_numpy(s), ref=ref, amin=amin, top_db=top_db).numpy()
    expected = librosa.power_to_db(s, ref=np.max if ref == "max" else ref, amin=amin, top_db=top_db)
    # float64; the dB values are O(100), so an absolute 1e-9 dB is ~1e-11 relative
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("top_db", [None, 80.0, 10.0])
@pytest.mark.parametrize("amin", _AMINS)
@pytest.mark.parametrize("ref", _REFS)
def test_amplitude_to_db_matches_librosa_over_ref_amin_grid(ref, amin, top_db):
    s = np.sqrt(_power())
    ours = amplitude_to_db(torch.from_numpy(s), ref=ref, amin=amin, top_db=top_db).numpy()
    expected = librosa.amplitude_to_db(
        s, ref=np.max if ref == "max" else ref, amin=amin, top_db=top_db
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("ref", [1.0, 0.5, 2.5, 1e3])
def test_db_inverses_match_librosa_over_ref_grid(ref):
    db = torch.from_numpy(np.linspace(-120, 40, 161))
    np.testing.assert_allclose(
        db_to_power(db, ref=ref).numpy(), librosa.db_to_power(db.numpy(), ref=ref), rtol=1e-12
    )
    np.testing.assert_allclose(
        db_to_amplitude(db, ref=ref).numpy(),
        librosa.db_to_amplitude(db.numpy(), ref=ref),
        rtol=1e-12,
    )
    # round trip where nothing is floored by amin (amin <= ref, amin below every value)
    s = torch.from_numpy(_power()) + 1e-20
    back = db_to_power(power_to_db(s, ref=ref, amin=1e-30, top_db=None), ref=ref)
    torch.testing.assert_close(back, s, rtol=1e-10, atol=0)
    a = s.sqrt()
    back = db_to_amplitude(amplitude_to_db(a, ref=ref, amin=1e-15, top_db=None), ref=ref)
    torch.testing.assert_close(back, a, rtol=1e-10, atol=0)


@pytest.mark.parametrize("lifter", [float("nan"), float("inf"), float("-inf"), -1.0, -0.5])
def test_mfcc_rejects_non_finite_or_negative_lifter(lifter):
    with pytest.raises(ParameterError, match="lifter"):
        mfcc(torch.randn(4000), sample_rate=16000, lifter=lifter)
    # librosa refuses the same values (it computes inf liftering as nan instead)
    if not np.isinf(lifter) or lifter < 0:
        with pytest.raises(librosa.util.exceptions.ParameterError):
            librosa.feature.mfcc(y=np.random.default_rng(0).standard_normal(4000), lifter=lifter)


@pytest.mark.parametrize("fn", ["power", "amplitude"])
def test_stereo_ref_max_and_top_db_are_per_channel_not_whole_array(fn):
    # documented choice: the peak (ref="max", top_db) is taken per (F, N) spectrogram, i.e.
    # per channel, where librosa on a (2, F, N) array takes it over the whole array
    ours_fn = power_to_db if fn == "power" else amplitude_to_db
    ref_fn = librosa.power_to_db if fn == "power" else librosa.amplitude_to_db
    s = np.stack([_power(), 1e-4 * _power()[::-1]])  # channel peaks differ by 40 dB
    if fn == "amplitude":
        s = np.sqrt(s)
    amin = 1e-10 if fn == "power" else 1e-5
    for ref in ("max", 1.0):
        ours = ours_fn(torch.from_numpy(s), ref=ref, amin=amin, top_db=30.0).numpy()
        lib_ref = np.max if ref == "max" else ref
        per_channel = np.stack([ref_fn(c, ref=lib_ref, amin=amin, top_db=30.0) for c in s])
        np.testing.assert_allclose(ours, per_channel, rtol=1e-12, atol=1e-9)
        whole = ref_fn(s, ref=lib_ref, amin=amin, top_db=30.0)
        assert not np.allclose(ours, whole, rtol=1e-6, atol=1e-6)
        # the first (louder) channel agrees with the whole-array result, the second does not
        np.testing.assert_allclose(ours[0], whole[0], rtol=1e-12, atol=1e-9)
        assert np.abs(ours[1] - whole[1]).max() > 1.0
