"""WaveNet: causality, receptive field, incremental == parallel, numba == torch, batched ==
per-utterance, fallback without numba, bad inputs, learning."""

from __future__ import annotations

import re
import sys
import warnings

import pytest
import torch

from synesthesia.config import AudioConfig
from synesthesia.errors import CheckpointError, ConfigMismatchError, ParameterError
from synesthesia.functional.distributions import draw_uniforms
from synesthesia.models import WaveNet, create_model, list_models
from synesthesia.models.wavenet import generation
from synesthesia.models.wavenet import numba_backend as wavenet_numba

HEADS = ["mulaw", "mol", "gaussian"]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


AUDIO = AudioConfig(
    sample_rate=8000, n_fft=64, hop_length=16, win_length=64, n_mels=6, f_max=4000.0
)


def _model(output="mulaw", dtype=torch.float64, **kw) -> WaveNet:
    torch.manual_seed(0)
    kwargs = dict(
        audio_config=AUDIO,
        num_layers=4,
        num_stacks=2,
        kernel_size=3,
        residual_channels=6,
        gate_channels=8,
        skip_channels=5,
        cond_channels=6,
        output=output,
        num_mixtures=3,
    )
    kwargs.update(kw)
    model = WaveNet(**kwargs)
    with torch.no_grad():  # the blocks' output convs start at zero: make them matter
        for conv in model.upsampler.res_out:
            conv.weight.normal_(0.0, 0.3)
            conv.bias.normal_(0.0, 0.3)
    return model.to(dtype).eval()


def _inputs(model, batch=3, frames=6, lengths=(6, 4, 2), seed=1):
    g = torch.Generator().manual_seed(seed)
    dtype = model.output_hidden.weight.dtype
    mel = torch.randn(batch, model.cond_channels, frames, generator=g, dtype=dtype) - 3
    wav = torch.rand(batch, frames * model.hop_length, generator=g, dtype=dtype) * 1.8 - 0.9
    return wav, mel, torch.tensor(lengths[:batch])


def _valid(x, lengths, hop):
    return [x[b, ..., : int(n) * hop] for b, n in enumerate(lengths)]


def test_receptive_field_measured_through_gradients():
    model = _model("gaussian", num_layers=6, num_stacks=2, kernel_size=2)
    assert model.receptive_field == (2 - 1) * (1 + 2 + 4) * 2 + 1
    wav, mel, _ = _inputs(model, batch=1, frames=6)
    wav.requires_grad_(True)
    t0 = 70
    model(wav, mel)[0, :, t0].sum().backward()
    support = (wav.grad[0] != 0).nonzero().flatten()
    assert support.min().item() == t0 - model.receptive_field
    assert support.max().item() == t0 - 1


def test_outputs_up_to_t_ignore_inputs_from_t_on():
    model = _model("mol")
    wav, mel, _ = _inputs(model, batch=2)
    changed = wav.clone()
    changed[:, 40:] = -changed[:, 40:]
    with torch.no_grad():
        a, b = model(wav, mel), model(changed, mel)
    torch.testing.assert_close(a[:, :, :41], b[:, :, :41], rtol=0, atol=0)
    assert not torch.allclose(a[:, :, 41:], b[:, :, 41:])


@pytest.mark.parametrize("output", HEADS)
@pytest.mark.parametrize("backend", ["torch", "numba"])
@pytest.mark.parametrize("upsample_layers", [0, 2])
def test_incremental_equals_parallel_forward(output, backend, upsample_layers):
    model = _model(output, global_cond_dim=2, upsample_layers=upsample_layers)
    wav, mel, lengths = _inputs(model)
    glob = torch.randn(3, 2, dtype=torch.float64)
    with torch.no_grad():
        parallel = model(wav, mel, mel_lengths=lengths, global_cond=glob)
    stepwise = model.incremental_forward(
        wav, mel, mel_lengths=lengths, global_cond=glob, backend=backend
    )
    for a, b in zip(_valid(stepwise, lengths, 16), _valid(parallel, lengths, 16)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("output", HEADS)
def test_numba_logits_equal_torch_in_float32(output):
    model = _model(output, dtype=torch.float32)
    wav, mel, lengths = _inputs(model)
    ref = model.incremental_forward(wav, mel, mel_lengths=lengths, backend="torch")
    fast = model.incremental_forward(wav, mel, mel_lengths=lengths, backend="numba")
    for a, b in zip(_valid(fast, lengths, 16), _valid(ref, lengths, 16)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("output", HEADS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_numba_samples_equal_torch_given_the_same_uniforms(output, dtype):
    model = _model(output, dtype=dtype)
    _, mel, lengths = _inputs(model)
    u = draw_uniforms(3, mel.shape[-1] * 16, 2, generator=torch.Generator().manual_seed(3))
    kw = dict(mel_lengths=lengths, uniforms=u, progress=False, temperature=0.9)
    ref, ref_len = model.generate(mel, backend="torch", **kw)
    fast, fast_len = model.generate(mel, backend="numba", **kw)
    assert ref_len.tolist() == fast_len.tolist() == [96, 64, 32]
    if output == "mulaw":
        torch.testing.assert_close(fast, ref, rtol=0, atol=0)  # identical classes
    else:
        tol = 1e-10 if dtype == torch.float64 else 1e-5
        torch.testing.assert_close(fast, ref, rtol=tol, atol=tol)
    assert float(ref[1, 64:].abs().max()) == 0.0  # zero past the row's length


@pytest.mark.parametrize("output", HEADS)
def test_half_weights_numba_equals_torch_with_rounded_weights(output):
    """weight_dtype=float16: the kernel's half-precision matrices (uint16 bits widened as
    loaded) compute what the torch path computes with the same matrices rounded."""
    model = _model(output, dtype=torch.float32)
    wav, mel, lengths = _inputs(model)
    half = dict(mel_lengths=lengths, weight_dtype=torch.float16)
    ref = model.incremental_forward(wav, mel, backend="torch", **half)
    fast = model.incremental_forward(wav, mel, backend="numba", **half)
    full = model.incremental_forward(wav, mel, mel_lengths=lengths, backend="torch")
    rounded = generation.rounded_copy(model, torch.float16)
    with torch.no_grad():
        parallel = rounded(wav, mel, mel_lengths=lengths)
    gap = 0.0
    for a, b, c, d in zip(*(_valid(x, lengths, 16) for x in (fast, ref, full, parallel))):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(b, d, rtol=1e-5, atol=1e-5)
        gap = max(gap, float((b - c).abs().max()))
    assert gap > 1e-6  # the rounding is real (so the equalities above are not vacuous)
    # only the per-sample matrices are rounded; the model itself is untouched
    for weight, original in zip(rounded.per_sample_matrices(), model.per_sample_matrices()):
        torch.testing.assert_close(weight, original.half().float(), rtol=0, atol=0)
    assert not torch.equal(model.blocks[0].conv.weight, rounded.blocks[0].conv.weight)


@pytest.mark.parametrize("output", HEADS)
def test_half_weights_samples_equal_between_backends(output):
    model = _model(output, dtype=torch.float32)
    _, mel, lengths = _inputs(model)
    u = draw_uniforms(3, mel.shape[-1] * 16, 2, generator=torch.Generator().manual_seed(8))
    kw = dict(mel_lengths=lengths, uniforms=u, progress=False, weight_dtype=torch.float16)
    ref, _ = model.generate(mel, backend="torch", **kw)
    fast, _ = model.generate(mel, backend="numba", **kw)
    if output == "mulaw":
        torch.testing.assert_close(fast, ref, rtol=0, atol=0)
    else:
        torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-5)


def test_half_weights_are_exact_for_a_model_stored_in_half(tmp_path):
    model = _model("mol", dtype=torch.float32)
    model.save_pretrained(tmp_path, dtype=torch.float16)
    stored = WaveNet.from_pretrained(tmp_path).eval()
    wav, mel, lengths = _inputs(stored)
    a = stored.incremental_forward(wav, mel, mel_lengths=lengths, backend="numba")
    b = stored.incremental_forward(
        wav, mel, mel_lengths=lengths, backend="numba", weight_dtype=torch.float16
    )
    for x, y in zip(_valid(a, lengths, 16), _valid(b, lengths, 16)):
        torch.testing.assert_close(x, y, rtol=1e-6, atol=1e-6)


def test_prefetching_changes_no_result(monkeypatch):
    """Software prefetch is a hint: forcing it on (as for weights bigger than L2) gives
    bit-identical samples."""
    model = _model("mol", dtype=torch.float32)
    _, mel, lengths = _inputs(model)
    u = draw_uniforms(3, mel.shape[-1] * 16, 2, generator=torch.Generator().manual_seed(9))
    kw = dict(mel_lengths=lengths, uniforms=u, progress=False, weight_dtype=torch.float16)
    plain, _ = model.generate(mel, backend="numba", **kw)
    exported = wavenet_numba.export_weights(model, torch.float16)
    assert wavenet_numba.prefetch_distance(exported) == 0  # tiny: fits any L2
    monkeypatch.setattr(wavenet_numba, "_l2_cache_bytes", lambda: 0)
    assert wavenet_numba.prefetch_distance(exported) > 0
    assert wavenet_numba.prefetch_distance(wavenet_numba.export_weights(model)) == 0  # float32
    prefetched, _ = model.generate(mel, backend="numba", **kw)
    torch.testing.assert_close(prefetched, plain, rtol=0, atol=0)


def test_weight_dtype_refused_when_invalid():
    model = _model("mulaw", dtype=torch.float32)
    _, mel, _ = _inputs(model, batch=1)
    with pytest.raises(ParameterError, match="weight_dtype=torch.bfloat16"):
        model.generate(mel, progress=False, weight_dtype=torch.bfloat16)
    with pytest.raises(ParameterError, match="needs a float32 model"):
        _model("mulaw").generate(
            _inputs(_model("mulaw"), batch=1)[1], progress=False, weight_dtype=torch.float16
        )


@pytest.mark.parametrize("backend", ["torch", "numba"])
@pytest.mark.parametrize("upsample_layers", [0, 2])
def test_batched_generation_equals_per_utterance(backend, upsample_layers):
    model = _model("mol", upsample_layers=upsample_layers, upsample_hidden_channels=4)
    _, mel, lengths = _inputs(model)
    u = draw_uniforms(3, mel.shape[-1] * 16, 2, generator=torch.Generator().manual_seed(4))
    torch.set_num_threads(2)  # numba: rows run on two threads
    batched, _ = model.generate(
        mel, mel_lengths=lengths, uniforms=u, progress=False, backend=backend
    )
    for b, n in enumerate(lengths.tolist()):
        alone, alone_len = model.generate(
            mel[b : b + 1, :, :n], uniforms=u[b : b + 1], progress=False, backend=backend
        )  # one row: a single thread
        assert alone_len.tolist() == [n * 16]
        torch.testing.assert_close(batched[b, : n * 16], alone[0], rtol=1e-12, atol=1e-12)


def test_generator_seeds_reproducible_generation_and_temperature_matters():
    model = _model("mulaw")
    _, mel, _ = _inputs(model, batch=1)
    a, _ = model.generate(mel, generator=torch.Generator().manual_seed(5), progress=False)
    b, _ = model.generate(mel, generator=torch.Generator().manual_seed(5), progress=False)
    c, _ = model.generate(
        mel, generator=torch.Generator().manual_seed(5), progress=False, temperature=0.3
    )
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert not torch.equal(a, c)


@pytest.mark.parametrize("backend", ["torch", "numba"])
def test_progress_bar_shows_samples_per_second_and_time_left(backend, wavenet_terminal):
    model = _model("mulaw")
    _, mel, lengths = _inputs(model)
    total = mel.shape[-1] * model.hop_length
    terminal = wavenet_terminal()
    model.generate(mel, mel_lengths=lengths, progress=True, backend=backend)
    drawn = terminal.getvalue()
    assert f"WaveNet ({backend}, batch 3)" in drawn, drawn
    assert "sample/s" in drawn, drawn  # the rate
    assert re.search(r"\d\d:\d\d<\d\d:\d\d", drawn), drawn  # elapsed<left
    assert re.search(rf"100%\|#+\| {total}(\.0)?/{total}(\.0)? ", drawn), drawn  # reaches the end
    terminal.seek(0)
    terminal.truncate()
    model.generate(mel, mel_lengths=lengths, progress=False, backend=backend)
    assert terminal.getvalue() == ""


def test_falls_back_to_torch_with_one_warning_when_numba_is_missing(monkeypatch):
    model = _model("gaussian")
    _, mel, lengths = _inputs(model)
    u = draw_uniforms(3, mel.shape[-1] * 16, 2, generator=torch.Generator().manual_seed(6))
    ref, _ = model.generate(mel, mel_lengths=lengths, uniforms=u, progress=False, backend="torch")
    monkeypatch.setitem(sys.modules, "numba", None)  # "import numba" raises ImportError
    monkeypatch.delitem(sys.modules, "synesthesia.models.wavenet.numba_kernel", raising=False)
    wavenet_numba.reset_availability()
    try:
        with pytest.warns(RuntimeWarning, match="numba"):
            out, _ = model.generate(mel, mel_lengths=lengths, uniforms=u, progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the second call stays quiet
            model.generate(mel, mel_lengths=lengths, uniforms=u, progress=False)
        torch.testing.assert_close(out, ref, rtol=0, atol=0)
    finally:
        monkeypatch.undo()
        wavenet_numba.reset_availability()
    assert wavenet_numba.numba_available()


@pytest.mark.parametrize("output", HEADS)
def test_loss_falls_when_fitting_a_sine(output):
    model = _model(output, dtype=torch.float32, num_layers=4, residual_channels=8)
    model.train()
    t = torch.arange(96, dtype=torch.float32)
    wav = 0.5 * torch.sin(2 * torch.pi * t / 12).expand(2, -1)
    mel = torch.zeros(2, 6, 6) - 2.0
    lengths = torch.tensor([96, 64])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(150):
        loss = model.loss(model(wav, mel), wav, waveform_lengths=lengths)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] - 1.0, losses[::25]


def test_loss_ignores_samples_past_the_lengths():
    model = _model("mol")
    wav, mel, _ = _inputs(model, batch=2)
    out = model(wav, mel)
    lengths = torch.tensor([96, 40])
    noisy = wav.clone()
    noisy[1, 40:] = 0.3
    a = model.loss(out, wav, waveform_lengths=lengths)
    b = model.loss(out, noisy, waveform_lengths=lengths)
    torch.testing.assert_close(a, b)


def test_presets_and_benchmark_configs():
    assert {"wavenet_tiny", "wavenet_small", "wavenet_base"} <= set(list_models("wavenet_*"))
    a = create_model("wavenet_mulaw_16x2")
    assert (a.num_layers, a.residual_channels, a.gate_channels, a.skip_channels) == (
        16,
        64,
        128,
        64,
    )
    assert a.audio_config.sample_rate == 22050 and a.cond_channels == 80
    assert a.output_channels == 256


def test_save_and_load_keeps_the_audio_config(tmp_path):
    model = _model("mol")
    model.save_pretrained(tmp_path / "wn")
    loaded = WaveNet.from_pretrained(tmp_path / "wn").double()
    assert loaded.audio_config == AUDIO
    _, mel, _ = _inputs(model, batch=1)
    u = draw_uniforms(1, 96, 2, generator=torch.Generator().manual_seed(7))
    a, _ = model.generate(mel, uniforms=u, progress=False)
    b, _ = loaded.generate(mel, uniforms=u, progress=False)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


# -- bad input: each a clear error -------------------------------------------------------------
def test_mel_with_the_wrong_number_of_bins():
    model = _model()
    with pytest.raises(ParameterError, match="n_mels=6"):
        model.generate(torch.zeros(1, 80, 4) - 3, progress=False)


def test_mel_from_a_different_audio_config():
    model = _model()
    other = AudioConfig(
        sample_rate=8000, n_fft=64, hop_length=8, win_length=64, n_mels=6, f_max=4000.0
    )
    with pytest.raises(ConfigMismatchError, match="hop_length"):
        model.generate(torch.zeros(1, 6, 4) - 3, audio_config=other, progress=False)


def test_mel_with_nan_frames():
    model = _model()
    mel = torch.zeros(2, 6, 5, dtype=torch.float64) - 3
    mel[1, 2, 3] = float("nan")
    with pytest.raises(ParameterError, match="NaN.*row 1, frame 3"):
        model.generate(mel, progress=False)
    # NaN in padding past the row's length is not an error, and does not leak into the output
    u = draw_uniforms(2, 80, 2, generator=torch.Generator().manual_seed(8))
    lengths = torch.tensor([5, 3])
    out, _ = model.generate(mel, mel_lengths=lengths, uniforms=u, progress=False)
    clean = mel.clone()
    clean[1, :, 3:] = 0.0
    ref, _ = model.generate(clean, mel_lengths=lengths, uniforms=u, progress=False)
    assert bool(torch.isfinite(out).all())
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_mel_with_zero_length():
    model = _model()
    with pytest.raises(ParameterError, match="empty"):
        model.generate(torch.zeros(1, 6, 0), progress=False)
    with pytest.raises(ParameterError, match="mel_lengths"):
        model.generate(torch.zeros(2, 6, 3) - 3, mel_lengths=torch.tensor([3, 0]), progress=False)


def test_linear_mel_warns():
    model = _model()
    with pytest.warns(UserWarning, match="log-mel"):
        model.generate(torch.rand(1, 6, 2, dtype=torch.float64), progress=False)


def test_bad_constructor_arguments():
    with pytest.raises(ParameterError, match="cond_channels"):
        WaveNet(audio_config=AUDIO, cond_channels=80)
    with pytest.raises(ParameterError, match="num_stacks"):
        WaveNet(audio_config=AUDIO, cond_channels=6, num_layers=5, num_stacks=2)
    with pytest.raises(ParameterError, match="output"):
        WaveNet(audio_config=AUDIO, cond_channels=6, output="wav")
    with pytest.raises(ParameterError, match="backend"):
        _model().generate(torch.zeros(1, 6, 2) - 3, backend="cuda", progress=False)


def test_from_pretrained_on_another_architecture(tmp_path):
    other = create_model("gpt_tiny")
    other.save_pretrained(tmp_path / "gpt")
    with pytest.raises(CheckpointError, match="not 'wavenet'"):
        WaveNet.from_pretrained(tmp_path / "gpt")
