"""stft / istft / power_spectrum / spectrogram against librosa in float64, plus properties."""

import librosa
import numpy as np
import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.functional import get_window, istft, power_spectrum, spectrogram, stft
from synesthesia.functional.spectral import frame_blocks

LIBROSA_PAD = {
    "constant": "constant",
    "reflect": "reflect",
    "replicate": "edge",
    "circular": "wrap",
}


def librosa_stft(x, *, n_fft, hop_length, win_length, window, center, pad_mode):
    if center and pad_mode == "circular":  # librosa.stft has no "wrap": pad with numpy
        pad = [(0, 0)] * (x.ndim - 1) + [(n_fft // 2, n_fft // 2)]
        x, center = np.pad(x, pad, mode="wrap"), False
    return librosa.stft(
        x,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=LIBROSA_PAD[pad_mode],
    )


SETTINGS = [
    # n_fft, hop_length, win_length, window, center, pad_mode
    (512, 128, 512, "hann", True, "reflect"),
    (512, 100, 400, "hamming", True, "constant"),
    (256, 64, 200, "blackman", False, "reflect"),
    (255, 85, 255, "rectangular", True, "replicate"),
    (128, 32, 128, "hann", True, "circular"),
]


def _signal(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("n_fft,hop_length,win_length,window,center,pad_mode", SETTINGS)
def test_stft_matches_librosa(n_fft, hop_length, win_length, window, center, pad_mode):
    x = _signal(2, 3000)
    ours = stft(
        torch.from_numpy(x),
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    ref = librosa_stft(
        x,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    assert ours.dtype == torch.complex128 and ours.shape == ref.shape
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-10 * np.abs(ref).max())


@pytest.mark.parametrize("n_fft,hop_length,win_length,window,center,pad_mode", SETTINGS)
@pytest.mark.parametrize("length", [None, 2900, 3000, 3100])
def test_istft_matches_librosa(n_fft, hop_length, win_length, window, center, pad_mode, length):
    spec = librosa_stft(
        _signal(2, 3000),
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        pad_mode=pad_mode,
    )
    ours = istft(
        torch.from_numpy(spec),
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        length=length,
    )
    ref = librosa.istft(
        spec,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        length=length,
    )
    assert ours.shape == ref.shape
    # Where the window-sum-square is ~1e-34 (the -1e-17 first sample of a blackman window,
    # squared) both divide rounding noise by it: those samples are meaningless in both
    # implementations, so only samples with a well-conditioned envelope are compared.
    envelope = librosa.filters.window_sumsquare(
        window=window,
        n_frames=spec.shape[-1],
        hop_length=hop_length,
        win_length=win_length,
        n_fft=n_fft,
        dtype=np.float64,
    )
    start = n_fft // 2 if center else 0
    envelope = np.pad(envelope, (0, max(0, start + ref.shape[-1] - envelope.shape[-1])))
    envelope = envelope[start : start + ref.shape[-1]]
    ill = (envelope > 0) & (envelope <= 1e-10 * envelope.max())
    assert ill.sum() <= 2 * hop_length  # only a few edge samples are excluded
    conditioned = ~ill
    np.testing.assert_allclose(
        ours.numpy()[..., conditioned], ref[..., conditioned], rtol=1e-5, atol=1e-10
    )


@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-10), (torch.float32, 1e-5)])
@pytest.mark.parametrize(
    "n_fft,hop_length,win_length,window",
    [
        (1024, 256, 1024, "hann"),
        (512, 128, 300, "hamming"),
        (400, 100, 400, "blackman"),
    ],
)
def test_istft_inverts_stft(dtype, tol, n_fft, hop_length, win_length, window):
    x = torch.from_numpy(_signal(3, 4000)).to(dtype)
    kwargs = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window)
    y = istft(
        stft(x, center=True, pad_mode="reflect", **kwargs), center=True, length=4000, **kwargs
    )
    assert y.dtype == dtype
    assert (y - x).abs().max() < tol
    # the brief's bound in float64
    if dtype == torch.float64:
        assert (y - x).abs().max() < 1e-6


def test_power_spectrum_matches_numpy_and_a_librosa_frame():
    x = _signal(2, 1000)
    ours = power_spectrum(torch.from_numpy(x), n_fft=1024, window="rectangular").numpy()
    np.testing.assert_allclose(ours, np.abs(np.fft.rfft(x, n=1024)) ** 2, rtol=1e-10)
    frame = x[0, :512]
    ours = power_spectrum(torch.from_numpy(frame), n_fft=512, window="hann").numpy()
    ref = (
        np.abs(
            librosa.stft(
                frame, n_fft=512, hop_length=512, win_length=512, window="hann", center=False
            )[:, 0]
        )
        ** 2
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-12 * ref.max())


def test_power_spectrum_of_a_sinusoid_is_documented_scale():
    t = torch.arange(1000, dtype=torch.float64)
    p = power_spectrum(0.5 * torch.cos(2 * torch.pi * 100 * t / 1000))
    assert abs(p[100].item() - (0.5 * 1000 / 2) ** 2) < 1e-6
    assert p.argmax().item() == 100


@pytest.mark.parametrize("power", [1.0, 2.0, 1.5])
def test_spectrogram_matches_librosa(power):
    x = _signal(3000)
    ours = spectrogram(
        torch.from_numpy(x),
        n_fft=512,
        hop_length=128,
        win_length=400,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=power,
    )
    ref, _ = librosa.core.spectrum._spectrogram(
        y=x,
        n_fft=512,
        hop_length=128,
        win_length=400,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=power,
    )
    np.testing.assert_allclose(ours.numpy(), ref, rtol=1e-5, atol=1e-12 * ref.max())


def test_batched_equals_per_item():
    x = torch.from_numpy(_signal(2, 3, 2000))
    kwargs = dict(
        n_fft=256, hop_length=64, win_length=256, window="hann", center=True, pad_mode="reflect"
    )
    batched = stft(x, **kwargs)
    for i in range(2):
        for j in range(3):
            torch.testing.assert_close(batched[i, j], stft(x[i, j], **kwargs), rtol=0, atol=0)
    back = istft(
        batched, n_fft=256, hop_length=64, win_length=256, window="hann", center=True, length=2000
    )
    torch.testing.assert_close(
        back[1, 2],
        istft(
            batched[1, 2],
            n_fft=256,
            hop_length=64,
            win_length=256,
            window="hann",
            center=True,
            length=2000,
        ),
    )


@pytest.mark.parametrize("shape", [(24000,), (2, 12000), (3, 2, 1500)])
def test_blockwise_path_equals_autograd_path(shape):
    # without autograd the STFT runs block by block over frames; with it, in one piece.
    # (24000,): runs of BLOCK_FRAMES; (2, 12000): 376 frames, one block per item; (3, 2, 1500):
    # several items per block
    x = torch.from_numpy(_signal(*shape))
    kwargs = dict(
        n_fft=256, hop_length=32, win_length=256, window="hann", center=True, pad_mode="reflect"
    )
    blockwise = stft(x, **kwargs)
    whole = stft(x.clone().requires_grad_(True), **kwargs).detach()
    items = int(np.prod(shape[:-1]))
    assert len(frame_blocks(blockwise.shape[-1], items)) > 1  # several blocks
    torch.testing.assert_close(blockwise, whole, rtol=1e-12, atol=1e-12)


def test_spectrogram_gradcheck():
    x = torch.randn(2, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    for power in (1.0, 2.0):
        assert torch.autograd.gradcheck(
            lambda t, p=power: spectrogram(
                t,
                n_fft=16,
                hop_length=4,
                win_length=12,
                window="hann",
                center=True,
                pad_mode="reflect",
                power=p,
            ),
            (x,),
            fast_mode=True,
        )


def test_window_values_match_scipy():
    import scipy.signal

    for name, scipy_name in [
        ("hann", "hann"),
        ("hamming", "hamming"),
        ("blackman", "blackman"),
        ("rectangular", "boxcar"),
    ]:
        ours = get_window(name, 301, n_fft=400, dtype=torch.float64).numpy()
        ref = librosa.util.pad_center(
            scipy.signal.get_window(scipy_name, 301, fftbins=True), size=400
        )
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_errors_name_the_argument():
    x = torch.randn(4000)
    with pytest.raises(ParameterError, match="hop_length=0"):
        stft(x, n_fft=512, hop_length=0)
    with pytest.raises(ParameterError, match="hop_length=2.5"):
        stft(x, n_fft=512, hop_length=2.5)
    with pytest.raises(ParameterError, match="win_length=1024"):
        stft(x, n_fft=512, win_length=1024)
    with pytest.raises(ParameterError, match="NaN"):
        stft(torch.tensor([0.0, float("nan")] * 1000), n_fft=512)
    with pytest.raises(ParameterError, match="NaN"):
        spectrogram(torch.tensor([0.0, float("inf")] * 1000), n_fft=512)
    with pytest.raises(ParameterError, match="n_fft=512"):
        stft(torch.randn(300), n_fft=512, center=False)
    with pytest.raises(ParameterError, match="too short"):
        stft(torch.randn(100), n_fft=512, center=True, pad_mode="reflect")
    with pytest.raises(ParameterError, match="pad_mode"):
        stft(x, n_fft=512, pad_mode="edge")
    with pytest.raises(ParameterError, match="window"):
        stft(x, n_fft=512, window="kaiser")
    with pytest.raises(ParameterError, match="power"):
        spectrogram(x, n_fft=512, power=0)
    with pytest.raises(ParameterError, match="n_fft=512 gives 257 bins"):
        istft(stft(x, n_fft=256), n_fft=512)
    with pytest.raises(ParameterError, match="waveform"):
        stft(torch.arange(100), n_fft=16)


@pytest.mark.parametrize("pad_mode", ["constant", "reflect"])
@pytest.mark.parametrize(("length", "pad"), [(2, 1), (5, 3), (600, 512), (1000, 512)])
def test_center_padding_equals_torch_pad(pad_mode, length, pad):
    import torch.nn.functional as F

    from synesthesia.functional.spectral import _pad_center

    x = torch.randn(3, 2, length, dtype=torch.float64, requires_grad=True)
    expected = F.pad(x.reshape(-1, 1, length), (pad, pad), mode=pad_mode).reshape(3, 2, -1)
    got = _pad_center(x, pad, pad_mode)
    assert torch.equal(got, expected)
    grad = torch.randn_like(expected)
    (g_expected,) = torch.autograd.grad(expected, x, grad)
    (g_got,) = torch.autograd.grad(got, x, grad)
    torch.testing.assert_close(g_got, g_expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.complex64])
def test_finite_check_catches_every_non_finite_pattern_and_passes_overflowing_sums(dtype):
    # the check sums first and runs the exact test only when the sum is not finite
    from synesthesia.functional._checks import check_finite

    big = torch.finfo(torch.float32 if dtype != torch.float64 else dtype).max
    check_finite("x", torch.full((1000,), big / 2, dtype=dtype))  # sum overflows, entries finite
    check_finite("x", torch.empty(0, dtype=dtype))
    for bad in ([float("nan")], [float("inf")], [float("-inf")], [float("inf"), float("-inf")]):
        x = torch.zeros(1000, dtype=dtype)
        x[3 : 3 + len(bad)] = torch.tensor(bad, dtype=dtype)
        with pytest.raises(ParameterError, match="NaN or infinite"):
            check_finite("x", x)
    with pytest.raises(ParameterError, match="NaN or infinite"):
        check_finite("x", torch.tensor([big, big, float("nan")], dtype=dtype))


# -- issue #19: hop_length > win_length (librosa's core-stft-005/006: n_fft=128, hop=256) ---
HOP_OVER_WIN = [
    # n_fft, hop_length, win_length, window, center, pad_mode
    (128, 256, 128, "hann", True, "constant"),
    (128, 256, 128, "hann", False, "constant"),
    (128, 256, None, "hamming", True, "reflect"),
    (512, 600, 512, "hann", True, "reflect"),
    (512, 384, 256, "blackman", True, "constant"),  # win < hop < n_fft
    (255, 300, 255, "rectangular", False, "reflect"),  # odd n_fft
    (257, 1000, 100, "hann", True, "reflect"),  # hop far beyond n_fft
]


@pytest.mark.parametrize("n_fft,hop_length,win_length,window,center,pad_mode", HOP_OVER_WIN)
def test_stft_hop_longer_than_window_matches_librosa(
    n_fft, hop_length, win_length, window, center, pad_mode
):
    x = _signal(2, 3000, seed=5)
    kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window)
    ours = stft(torch.from_numpy(x), center=center, pad_mode=pad_mode, **kw).numpy()
    ref = librosa_stft(x, center=center, pad_mode=pad_mode, **kw)
    assert ours.dtype == np.complex128 and ours.shape == ref.shape
    # the definition, with numpy: pad the whole signal, cut frames hop_length apart, window,
    # rfft (scipy window, zero-padded to n_fft as librosa.util.pad_center does)
    import scipy.signal

    scipy_name = {"rectangular": "boxcar"}.get(window, window)
    win = librosa.util.pad_center(
        scipy.signal.get_window(scipy_name, win_length or n_fft, fftbins=True), size=n_fft
    )
    padded = np.pad(x, [(0, 0), (n_fft // 2, n_fft // 2)], mode=LIBROSA_PAD[pad_mode])
    padded = padded if center else x
    starts = range(0, padded.shape[-1] - n_fft + 1, hop_length)
    truth = np.fft.rfft(np.stack([padded[:, s : s + n_fft] * win for s in starts], -1), axis=1)
    # float64: FFTs of <= 512 samples agree to ~1e-14 of the largest value
    tol = dict(rtol=1e-10, atol=1e-12 * np.abs(truth).max())
    assert ours.shape == truth.shape
    np.testing.assert_allclose(ours, truth, **tol)
    # librosa agrees frame for frame, except (pad_mode="reflect") on a last frame whose tail
    # librosa pads on its own from a segment shorter than n_fft // 2 (np.pad then reflects
    # twice; seen for n_fft=512 with hop 600 and also hop 500 < win, so not a hop > win matter)
    same = np.isclose(ref, truth, **tol).all(axis=(0, 1))
    assert same[:-1].all() and (same[-1] or pad_mode == "reflect")
    np.testing.assert_allclose(ours[..., same], ref[..., same], **tol)
    # the power spectrogram takes the same settings
    power = spectrogram(torch.from_numpy(x), center=center, pad_mode=pad_mode, power=2.0, **kw)
    np.testing.assert_allclose(power.numpy(), np.abs(truth) ** 2, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n_fft,hop_length,win_length,window,center,pad_mode", HOP_OVER_WIN)
@pytest.mark.parametrize("length", [None, 3000])
def test_istft_hop_longer_than_window_mirrors_librosa(
    n_fft, hop_length, win_length, window, center, pad_mode, length
):
    # librosa.istft accepts hop > win: samples no window covers cannot be reconstructed and
    # come out as 0 (window-sum-square 0 there); ours does the same and warns
    x = _signal(2, 3000, seed=6)
    kw = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window)
    spec = librosa_stft(x, center=center, pad_mode=pad_mode, **kw)
    ref = librosa.istft(spec, center=center, length=length, **kw)
    with pytest.warns(UserWarning, match=f"hop_length={hop_length}"):
        ours = istft(torch.from_numpy(spec), center=center, length=length, **kw).numpy()
    assert ours.shape == ref.shape
    envelope = librosa.filters.window_sumsquare(
        window=window,
        n_frames=spec.shape[-1],
        hop_length=hop_length,
        win_length=win_length or n_fft,
        n_fft=n_fft,
        dtype=np.float64,
    )
    start = n_fft // 2 if center else 0
    envelope = np.pad(envelope, (0, max(0, start + ref.shape[-1] - envelope.shape[-1])))
    envelope = envelope[start : start + ref.shape[-1]]
    # as in test_istft_matches_librosa: skip samples whose envelope is ~0 but not 0
    conditioned = ~((envelope > 0) & (envelope <= 1e-10 * envelope.max()))
    np.testing.assert_allclose(ours[..., conditioned], ref[..., conditioned], rtol=1e-7, atol=1e-10)
    gaps = envelope == 0
    assert gaps.any()  # the frames really leave samples uncovered
    assert np.all(ours[..., gaps] == 0) and np.all(ref[..., gaps] == 0)
    covered = envelope > 1e-3 * envelope.max()
    np.testing.assert_allclose(
        ours[..., covered], x[..., : ours.shape[-1]][..., covered], atol=1e-9
    )


def test_hop_length_beyond_window_is_accepted_everywhere_but_must_be_a_positive_int():
    from synesthesia.config import AudioConfig
    from synesthesia.functional.spectral import resolve_lengths
    from synesthesia.transforms.audio import Spectrogram

    assert resolve_lengths(128, 256, None) == (128, 256, 128)
    x = torch.from_numpy(_signal(3000, seed=7))
    module = Spectrogram(n_fft=128, hop_length=256, window="hann", center=True, pad_mode="reflect")
    expected = spectrogram(x, n_fft=128, hop_length=256, center=True, pad_mode="reflect")
    torch.testing.assert_close(module.double()(x), expected, rtol=0, atol=0)
    config = AudioConfig(sample_rate=16000, n_fft=128, hop_length=256, win_length=128, n_mels=8)
    assert expected.shape[-1] == config.num_frames(3000)
    # AudioConfig counts frames as stft does, odd n_fft and T a multiple of hop included
    for n_fft, hop_length, num_samples in [(129, 256, 3072), (255, 64, 3008), (256, 300, 3000)]:
        for center in (True, False):
            config = AudioConfig(
                n_fft=n_fft, hop_length=hop_length, win_length=n_fft, center=center
            )
            frames = stft(
                x[:num_samples] if num_samples <= 3000 else torch.randn(num_samples),
                n_fft=n_fft,
                hop_length=hop_length,
                center=center,
            ).shape[-1]
            assert config.num_frames(num_samples) == frames
    for bad in (0, -256, 2.5, True):
        with pytest.raises(ParameterError, match=f"hop_length={bad!r}"):
            resolve_lengths(128, bad, None)
        with pytest.raises(ParameterError, match=f"hop_length={bad!r}"):
            stft(x, n_fft=128, hop_length=bad)
        with pytest.raises(ParameterError, match=f"hop_length={bad!r}"):
            AudioConfig(n_fft=128, hop_length=bad, win_length=128)
