"""griffin_lim against librosa.griffinlim with the same initial phases; spectral convergence."""

import librosa
import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional import griffin_lim, istft, spectral_convergence, stft
from synesthesia.functional.spectral import BLOCK_FRAMES

SAMPLE_RATE = 16000
KW = dict(n_fft=512, hop_length=128, win_length=512, window="hann", center=True)


def _sound(seconds=1.0):
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    chirp = 0.4 * np.sin(2 * np.pi * (200 + 1500 * t) * t)
    tone = sum(0.2 / k * np.sin(2 * np.pi * 330 * k * t) for k in range(1, 5))
    return chirp + tone + 0.01 * np.random.default_rng(0).standard_normal(t.shape)


def _magnitude(x):
    return np.abs(librosa.stft(x, pad_mode="reflect", **KW))


def _convergence(magnitude, y):
    est = stft(torch.from_numpy(np.ascontiguousarray(y)), pad_mode="reflect", **KW).abs()
    return spectral_convergence(torch.from_numpy(magnitude), est).item()


# length = hop (N - 1) + offset: offset 0 pads in place inside the overlap-add buffer,
# offset > 0 (still N frames) takes the generic copy-and-pad path; both must match librosa
@pytest.mark.parametrize(
    "momentum,pad_mode,offset",
    [
        (0.99, "reflect", 0),
        (0.0, "reflect", 0),
        (0.99, "reflect", 60),
        (0.99, "constant", 0),
        (0.99, "constant", 60),
        (0.5, "replicate", 0),
    ],
)
def test_same_initial_phase_gives_librosas_result(momentum, pad_mode, offset):
    mag = _magnitude(_sound())
    length = KW["hop_length"] * (mag.shape[-1] - 1) + offset
    phases = 2 * np.pi * np.random.RandomState(0).random_sample(mag.shape)
    ref = librosa.griffinlim(
        mag,
        n_iter=16,
        momentum=momentum,
        init="random",
        random_state=np.random.RandomState(0),
        length=length,
        pad_mode={"replicate": "edge"}.get(pad_mode, pad_mode),
        **KW,
    )
    ours = griffin_lim(
        torch.from_numpy(mag),
        n_iter=16,
        momentum=momentum,
        init=torch.from_numpy(phases),
        length=length,
        pad_mode=pad_mode,
        **KW,
    ).numpy()
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8)
    assert _convergence(mag, ours) <= _convergence(mag, ref) * (1 + 1e-6)


def test_zero_phase_init_matches_librosa_and_converges_no_worse():
    mag = _magnitude(_sound())
    ref = librosa.griffinlim(
        mag, n_iter=32, momentum=0.99, init=None, length=None, pad_mode="reflect", **KW
    )
    ours = griffin_lim(
        torch.from_numpy(mag),
        n_iter=32,
        momentum=0.99,
        init="zeros",
        length=None,
        pad_mode="reflect",
        **KW,
    ).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-7)
    ours_sc, ref_sc = _convergence(mag, ours), _convergence(mag, ref)
    assert ours_sc <= ref_sc * (1 + 1e-6)
    assert ours_sc < 0.2


def test_random_init_is_seeded_and_converges_like_librosa():
    mag = _magnitude(_sound())
    a = griffin_lim(
        torch.from_numpy(mag),
        n_iter=32,
        momentum=0.99,
        init="random",
        seed=3,
        pad_mode="reflect",
        **KW,
    )
    b = griffin_lim(
        torch.from_numpy(mag),
        n_iter=32,
        momentum=0.99,
        init="random",
        seed=3,
        pad_mode="reflect",
        **KW,
    )
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    ref = librosa.griffinlim(
        mag, n_iter=32, momentum=0.99, init="random", random_state=3, pad_mode="reflect", **KW
    )
    # different random phases: same algorithm, so the convergence is comparable (within 10%)
    assert _convergence(mag, a.numpy()) <= _convergence(mag, ref) * 1.1


def test_more_iterations_and_momentum_help():
    mag = torch.from_numpy(_magnitude(_sound()))
    sc = {}
    for n_iter, momentum in [(4, 0.0), (32, 0.0), (32, 0.99)]:
        y = griffin_lim(
            mag, n_iter=n_iter, momentum=momentum, init="zeros", pad_mode="reflect", **KW
        )
        sc[n_iter, momentum] = _convergence(mag.numpy(), y.numpy())
    assert sc[32, 0.0] < sc[4, 0.0]
    assert sc[32, 0.99] < sc[32, 0.0]


def test_batched_equals_per_item_float32_and_length():
    x = np.stack([_sound(0.5), _sound(0.5)[::-1].copy()]).astype(np.float32)
    mag = torch.from_numpy(np.abs(librosa.stft(x, pad_mode="reflect", **KW)))
    kw = dict(n_iter=8, momentum=0.99, init="zeros", pad_mode="reflect", length=8000, **KW)
    batched = griffin_lim(mag, **kw)
    assert batched.shape == (2, 8000) and batched.dtype == torch.float32
    for i in range(2):
        torch.testing.assert_close(batched[i], griffin_lim(mag[i], **kw), rtol=1e-5, atol=1e-6)


def test_batched_long_signals_equal_per_item():
    # more than BLOCK_FRAMES frames per item: blocks run per item over consecutive frames
    x = np.stack([_sound(2.5), _sound(2.5)[::-1].copy()])
    mag = torch.from_numpy(np.abs(librosa.stft(x, pad_mode="reflect", **KW)))
    assert mag.shape[-1] > BLOCK_FRAMES
    kw = dict(n_iter=4, momentum=0.99, init="zeros", pad_mode="reflect", **KW)
    batched = griffin_lim(mag, **kw)
    for i in range(2):
        torch.testing.assert_close(batched[i], griffin_lim(mag[i], **kw), rtol=1e-9, atol=1e-12)


def test_spectral_convergence_definition():
    ref = torch.rand(2, 5, 7, dtype=torch.float64)
    est = ref + 0.1 * torch.rand(2, 5, 7, dtype=torch.float64)
    sc = spectral_convergence(ref, est)
    assert sc.shape == (2,)
    expected = torch.stack([(ref[i] - est[i]).norm() / ref[i].norm() for i in range(2)])
    torch.testing.assert_close(sc, expected)
    assert spectral_convergence(ref, ref).abs().max() == 0


def test_errors_and_warnings():
    mag = torch.rand(257, 20)
    with pytest.raises(ParameterError, match="momentum=-1"):
        griffin_lim(mag, momentum=-1)
    with pytest.raises(ParameterError, match="n_iter=0"):
        griffin_lim(mag, n_iter=0)
    with pytest.raises(ParameterError, match="init='nope'"):
        griffin_lim(mag, init="nope")
    with pytest.raises(ParameterError, match="n_fft=1024 gives 513 bins"):
        griffin_lim(mag, n_fft=1024)
    with pytest.raises(ParameterError, match="length=100000"):
        griffin_lim(mag, hop_length=128, length=100000)
    with pytest.raises(ParameterError, match="NaN"):
        griffin_lim(torch.full((257, 20), float("nan")))
    with pytest.warns(UserWarning, match="momentum=1.5"):
        griffin_lim(mag, n_iter=1, momentum=1.5, hop_length=128)
    with pytest.raises(ParameterError, match="estimate_magnitude"):
        spectral_convergence(torch.rand(3, 4), torch.rand(3, 5))


# -- issue #19: librosa's test_griffinlim grid (odd n_fft, centring, length) ----------------
def _well_conditioned(*, n_frames, n_fft, hop_length, win_length, window, center, out_len):
    """Output samples whose window-sum-square is not ~0 (where both divide rounding noise)."""
    envelope = librosa.filters.window_sumsquare(
        window=window,
        n_frames=n_frames,
        hop_length=hop_length,
        win_length=win_length,
        n_fft=n_fft,
        dtype=np.float64,
    )
    start = n_fft // 2 if center else 0
    envelope = np.pad(envelope, (0, max(0, start + out_len - envelope.shape[-1])))
    envelope = envelope[start : start + out_len]
    return ~((envelope > 0) & (envelope <= 1e-10 * envelope.max()))


@pytest.mark.parametrize("momentum", [0.99, 0.0])
@pytest.mark.parametrize("length", [None, 4000])
@pytest.mark.parametrize("center", [False, True])
@pytest.mark.parametrize("window", ["hann", "blackman"])
@pytest.mark.parametrize("n_fft", [256, 257])
@pytest.mark.parametrize("win_length", [None, 128])
@pytest.mark.parametrize("hop_length", [None, 64])
def test_griffinlim_grid_matches_librosa(
    hop_length, win_length, n_fft, window, center, length, momentum
):
    x = _sound(0.25)  # 4000 samples, not a multiple of any hop
    stft_kw = dict(
        n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=center
    )
    mag = np.abs(librosa.stft(x, pad_mode="constant", **stft_kw))
    ref = librosa.griffinlim(
        mag, n_iter=4, momentum=momentum, init=None, length=length, pad_mode="constant", **stft_kw
    )
    ours = griffin_lim(
        torch.from_numpy(mag),
        n_iter=4,
        momentum=momentum,
        init="zeros",
        length=length,
        pad_mode="constant",
        **stft_kw,
    ).numpy()
    assert ours.shape == ref.shape
    # the same length convention as istft (librosa's and ours) of a spectrum of N frames
    spec = librosa.stft(x, pad_mode="constant", **stft_kw)
    assert ref.shape == librosa.istft(spec, length=length, **stft_kw).shape
    assert ours.shape == istft(torch.from_numpy(spec), length=length, **stft_kw).shape
    ok = _well_conditioned(
        n_frames=mag.shape[-1],
        n_fft=n_fft,
        hop_length=hop_length or (win_length or n_fft) // 4,
        win_length=win_length or n_fft,
        window=window,
        center=center,
        out_len=ref.shape[-1],
    )
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-7, atol=1e-9 * np.abs(ref).max())


@pytest.mark.parametrize(
    "n_fft,hop_length,win_length,center,length",
    [(128, 256, 128, True, None), (128, 256, 128, False, 3000), (257, 300, 200, True, None)],
)
def test_hop_longer_than_window_matches_librosa_and_warns(
    n_fft, hop_length, win_length, center, length
):
    # librosa.griffinlim accepts hop > win (samples between windows come out 0); so do we.
    # pad_mode="constant": with "reflect" librosa.stft pads its last frames from a tail
    # segment that can be shorter than n_fft // 2 (np.pad then reflects twice), which is not
    # the reflection of the whole signal (see test_stft_hop_longer_than_window_matches_librosa)
    x = _sound(0.2)[:3000]
    kw = dict(
        n_fft=n_fft, hop_length=hop_length, win_length=win_length, window="hann", center=center
    )
    mag = np.abs(librosa.stft(x, pad_mode="constant", **kw))
    ref = librosa.griffinlim(
        mag, n_iter=4, momentum=0.99, init=None, length=length, pad_mode="constant", **kw
    )
    with pytest.warns(UserWarning, match=f"hop_length={hop_length} > win_length={win_length}"):
        ours = griffin_lim(
            torch.from_numpy(mag),
            n_iter=4,
            momentum=0.99,
            init="zeros",
            length=length,
            pad_mode="constant",
            **kw,
        ).numpy()
    assert ours.shape == ref.shape
    ok = _well_conditioned(
        n_frames=mag.shape[-1],
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window="hann",
        center=center,
        out_len=ref.shape[-1],
    )
    np.testing.assert_allclose(ours[ok], ref[ok], rtol=1e-7, atol=1e-9 * np.abs(ref).max())
