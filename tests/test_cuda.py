"""CUDA: the same numbers on the GPU as on the CPU, and nothing silently falls back to the CPU.

Skipped as a whole without a CUDA device. Every test runs its subject on ``DEVICE`` (float32
unless stated) and compares with the CPU (float64 where an independent reference is cheap,
else float32) with the tolerance stated next to it; every output must stay on ``DEVICE``.
TF32 is switched off (``no_tf32``): tolerances are for true float32 arithmetic.

Self-check without a GPU: ``SYNESTHESIA_TEST_DEVICE=cpu python -m pytest tests/test_cuda.py``
runs every test with ``DEVICE = cpu`` (CPU against CPU: it proves the test bodies, not CUDA;
the one test of CUDA-only behaviour, WaveNet's backend choice, is skipped then; about 10 s).
``SYNESTHESIA_TEST_DEVICE=cuda:1`` picks another GPU.

Optional packages: the training test needs ``tensorboard`` or ``tensorboardX`` (Lightning's
TensorBoardLogger, which ``fit`` always attaches); the text-to-speech test with real text
needs ``espeakng_loader`` (eSpeak NG phonemes). The other TTS test feeds fixed IPA symbols
and needs neither.
"""

from __future__ import annotations

import copy
import csv
import importlib.util
import inspect
import os
import random

import pytest
import torch

import synesthesia.functional as S
from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.functional.distributions import draw_uniforms
from synesthesia.functional.mu_law import mu_law_encode
from synesthesia.models import WaveNet, create_model, list_models
from synesthesia.models.wavenet import generation
from synesthesia.models.wavenet import numba_backend as wavenet_numba

_FORCED = os.environ.get("SYNESTHESIA_TEST_DEVICE")
DEVICE = torch.device(_FORCED or "cuda")
ON_CUDA = DEVICE.type == "cuda"

pytestmark = [
    pytest.mark.skipif(ON_CUDA and not torch.cuda.is_available(), reason="needs a CUDA device"),
    pytest.mark.usefixtures("no_tf32", "one_torch_thread"),
]

TINY = list_models("*_tiny")
#: float32 forward on DEVICE vs on the CPU: float32 vs float64 on the CPU differ by at most
#: 7.5e-7 (absolute) over every *_tiny output; 1e-4 leaves a wide margin for GPU kernels
RTOL = ATOL = 1e-4


@pytest.fixture
def no_tf32():
    """True float32 matmuls and convolutions on the GPU (restored afterwards)."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _to(value, device: torch.device):
    """``value`` (tensor, or a dict/tuple/list of them) moved to ``device``."""
    if isinstance(value, torch.Tensor):
        return value.to(device)
    if isinstance(value, dict):
        return {k: _to(v, device) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_to(v, device) for v in value)
    return value


def _on_device(tensors: list[torch.Tensor], what: str) -> None:
    for t in tensors:
        assert t.device.type == DEVICE.type, f"{what}: output {tuple(t.shape)} on {t.device}"


def _close(actual: torch.Tensor, expected: torch.Tensor, *, rtol: float, atol: float) -> None:
    """``actual`` (any device and dtype) against ``expected`` on the CPU."""
    actual = actual.detach().cpu()
    if expected.is_floating_point() or expected.is_complex():
        actual = actual.to(expected.dtype)
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=atol)


# -- functional audio ----------------------------------------------------------------------
SAMPLE_RATE = 16000
SPECTRAL = dict(n_fft=512, hop_length=128, win_length=512, window="hann", center=True,
                pad_mode="reflect")  # fmt: skip
MEL = dict(sample_rate=SAMPLE_RATE, n_mels=64, f_min=0.0, f_max=8000.0, mel_scale="slaney",
           norm="slaney")  # fmt: skip

FUNCTIONAL = {
    "stft": lambda x: S.stft(x, **SPECTRAL),
    "power_spectrum": lambda x: S.power_spectrum(x[..., :1000], n_fft=1024, window="hann"),
    "spectrogram": lambda x: S.spectrogram(x, **SPECTRAL, power=2.0),
    "mel_spectrogram": lambda x: S.mel_spectrogram(x, **SPECTRAL, power=2.0, **MEL),
    "log_mel_spectrogram": lambda x: S.log_mel_spectrogram(
        x, log_floor=1e-5, **SPECTRAL, power=1.0, **MEL
    ),
    "power_to_db": lambda x: S.power_to_db(
        S.mel_spectrogram(x, **SPECTRAL, power=2.0, **MEL), ref=1.0, amin=1e-10, top_db=80.0
    ),
    "amplitude_to_db": lambda x: S.amplitude_to_db(
        S.spectrogram(x, **SPECTRAL, power=1.0), ref="max", amin=1e-5, top_db=80.0
    ),
    "mfcc": lambda x: S.mfcc(
        x, n_mfcc=20, lifter=0.0, amin=1e-10, top_db=80.0, **SPECTRAL, power=2.0, **MEL
    ),
}


def _signal() -> torch.Tensor:
    """(2, 16000) float64: a chirp plus noise, 1 s at 16 kHz, two rows."""
    g = torch.Generator().manual_seed(0)
    t = torch.arange(SAMPLE_RATE, dtype=torch.float64) / SAMPLE_RATE
    chirp = 0.5 * torch.sin(2 * torch.pi * (200 + 1500 * t) * t)
    return chirp + 0.05 * torch.randn(2, SAMPLE_RATE, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional_audio_float32_on_device_matches_cpu_float64(name):
    fn = FUNCTIONAL[name]
    x = _signal()
    expected = fn(x)
    out = fn(x.float().to(DEVICE))
    _on_device([out], name)
    assert out.dtype in (torch.float32, torch.complex64), out.dtype
    # float32 FFT rounding is relative to the largest bin: spectra and mels to 1e-5 of their
    # largest value (CPU float32: <= 2.7e-7); a bin 80 dB below the peak carries ~1e-3
    # relative error, so dB values get 1e-2 dB (CPU float32: <= 1.2e-3 dB), the natural-log
    # mel 1e-3 (CPU: 1.4e-5) and MFCCs 1e-3 per 100 of their scale (CPU: 4.6e-5 at 151).
    scale = expected.abs().max().item()
    if name in ("power_to_db", "amplitude_to_db"):
        _close(out, expected, rtol=0, atol=1e-2)
    elif name == "log_mel_spectrogram":
        _close(out, expected, rtol=0, atol=1e-3)
    elif name == "mfcc":
        _close(out, expected, rtol=1e-5, atol=1e-3 * max(1.0, scale / 100))
    else:
        _close(out, expected, rtol=1e-4, atol=1e-5 * scale)


def test_griffin_lim_with_a_fixed_initial_phase_matches_cpu():
    x = _signal()
    magnitude = S.spectrogram(x, **SPECTRAL, power=1.0)  # (2, F, N)
    g = torch.Generator().manual_seed(1)
    phase = 2 * torch.pi * torch.rand(magnitude.shape, generator=g, dtype=torch.float64)
    kw = dict(n_iter=32, momentum=0.99, init=phase, **SPECTRAL, length=x.shape[-1])
    expected = S.griffin_lim(magnitude, **kw)
    # float64 on the device: the same arithmetic up to FFT rounding
    out64 = S.griffin_lim(magnitude.to(DEVICE), **{**kw, "init": phase.to(DEVICE)})
    _on_device([out64], "griffin_lim float64")
    _close(out64, expected, rtol=1e-7, atol=1e-9)
    # float32 on the device: 32 iterations with momentum 0.99 amplify float32 rounding; the
    # relative L2 error (CPU float32 vs float64: 2.4e-4) must stay below 1e-2
    out32 = S.griffin_lim(magnitude.float().to(DEVICE), **{**kw, "init": phase.float()})
    _on_device([out32], "griffin_lim float32")
    assert out32.dtype == torch.float32
    error = (out32.cpu().double() - expected).norm() / expected.norm()
    assert error < 1e-2, error


# -- every *_tiny model ---------------------------------------------------------------------
def _build(name: str):
    torch.manual_seed(0)
    return create_model(name).eval()


@pytest.mark.parametrize("name", TINY)
def test_tiny_model_forward_on_device_matches_cpu(name, output_tensors):
    model = _build(name)
    torch.manual_seed(1)  # some example_inputs draw from the global generator
    inputs = model.example_inputs(2)
    with torch.no_grad():
        expected = output_tensors(model(**inputs))
        twin = copy.deepcopy(model).to(DEVICE)
        assert all(p.device.type == DEVICE.type for p in twin.parameters())
        outputs = output_tensors(twin(**_to(inputs, DEVICE)))
    assert outputs and len(outputs) == len(expected), f"{name}: {len(outputs)} outputs"
    _on_device(outputs, name)
    for out, ref in zip(outputs, expected, strict=True):
        assert out.shape == ref.shape and out.dtype == ref.dtype, name
        if ref.is_floating_point():
            _close(out, ref, rtol=RTOL, atol=ATOL)  # float32 vs float32 (see RTOL)
        else:
            assert torch.equal(out.cpu(), ref), f"{name}: integer output differs"


@pytest.mark.parametrize("name", TINY)
def test_tiny_model_generate_or_infer_runs_on_device(name, output_tensors):
    """generate()/infer() of every *_tiny preset runs on the device and returns tensors there.

    Values are not compared: with random weights, stop tokens sit at probability ~0.5 and beam
    candidates near ties, so float32 rounding may flip decisions (decoding is compared on the
    trained shipped models below, and WaveNet's sampling with given uniforms)."""
    model = _build(name).to(DEVICE)
    method = getattr(model, "generate", None) or model.infer
    torch.manual_seed(1)
    if hasattr(model, "example_generate_inputs"):
        kwargs = model.example_generate_inputs(2)
    else:
        accepted = inspect.signature(method).parameters
        kwargs = {k: v for k, v in model.example_inputs(2).items() if k in accepted}
    outputs = output_tensors(method(**_to(kwargs, DEVICE)))
    assert outputs, f"{name}: no tensor returned"
    _on_device(outputs, name)
    for t in outputs:
        if t.is_floating_point():
            assert torch.isfinite(t).all(), f"{name}: non-finite output"


# -- WaveNet generation ---------------------------------------------------------------------
WAVENET_AUDIO = AudioConfig(
    sample_rate=8000, n_fft=64, hop_length=16, win_length=64, n_mels=6, f_max=4000.0
)


def _wavenet(output: str, dtype: torch.dtype) -> WaveNet:
    """A small WaveNet (as in tests/models/test_wavenet.py) whose output convs matter."""
    torch.manual_seed(0)
    model = WaveNet(
        audio_config=WAVENET_AUDIO, num_layers=4, num_stacks=2, kernel_size=3,
        residual_channels=6, gate_channels=8, skip_channels=5, cond_channels=6,
        output=output, num_mixtures=3, upsample_layers=1,
    )  # fmt: skip
    with torch.no_grad():
        for conv in model.upsampler.res_out:
            conv.weight.normal_(0.0, 0.3)
            conv.bias.normal_(0.0, 0.3)
    return model.to(dtype).eval()


def _wavenet_inputs(model: WaveNet):
    g = torch.Generator().manual_seed(1)
    dtype = model.output_hidden.weight.dtype
    mel = torch.randn(3, model.cond_channels, 6, generator=g, dtype=dtype) - 3
    lengths = torch.tensor([6, 4, 2])
    uniforms = draw_uniforms(3, 6 * model.hop_length, 2, generator=g)
    return mel, lengths, uniforms


@pytest.mark.parametrize("output", ["mulaw", "mol", "gaussian"])
def test_wavenet_torch_backend_on_device_draws_the_cpu_samples(output, monkeypatch):
    model = _wavenet(output, torch.float64)  # float64: no sampling decision can flip
    mel, lengths, uniforms = _wavenet_inputs(model)
    kw = dict(mel_lengths=lengths, uniforms=uniforms, progress=False, temperature=0.9)
    expected, expected_lengths = model.generate(mel, backend="torch", **kw)

    seen = []

    def recording(model, frame_cond, mel_lengths, **kwargs):
        seen.append((frame_cond.device, kwargs["uniforms"].device))
        return torch_stream(model, frame_cond, mel_lengths, **kwargs)

    torch_stream = generation.torch_stream
    monkeypatch.setattr(generation, "torch_stream", recording)
    twin = copy.deepcopy(model).to(DEVICE)
    waveform, waveform_lengths = twin.generate(_to(mel, DEVICE), backend="torch", **kw)
    assert seen and all(d.type == DEVICE.type for pair in seen for d in pair), seen
    _on_device([waveform, waveform_lengths], f"WaveNet {output}")
    assert torch.equal(waveform_lengths.cpu(), expected_lengths.cpu())
    if output == "mulaw":  # identical classes; their decoding (pow) may differ by an ulp
        classes = [
            mu_law_encode(w.cpu(), quantization_channels=model.output_channels)
            for w in (waveform, expected)
        ]
        assert torch.equal(*classes)
        _close(waveform, expected, rtol=1e-12, atol=1e-15)
    else:
        _close(waveform, expected, rtol=1e-9, atol=1e-10)


def test_wavenet_incremental_forward_float32_on_device_matches_cpu():
    model = _wavenet("mol", torch.float32)
    mel, lengths, _ = _wavenet_inputs(model)
    g = torch.Generator().manual_seed(2)
    wav = torch.rand(3, mel.shape[-1] * model.hop_length, generator=g) * 1.8 - 0.9
    expected = model.incremental_forward(wav, mel, mel_lengths=lengths, backend="torch")
    twin = copy.deepcopy(model).to(DEVICE)
    out = twin.incremental_forward(
        _to(wav, DEVICE), _to(mel, DEVICE), mel_lengths=_to(lengths, DEVICE), backend="torch"
    )
    _on_device([out], "incremental_forward")
    _close(out, expected, rtol=RTOL, atol=ATOL)  # teacher-forced: no sampling, float32 noise


@pytest.mark.skipif(not ON_CUDA, reason="CUDA-only behaviour (CPU self-check run)")
def test_wavenet_on_cuda_never_falls_back_to_the_cpu_kernel(monkeypatch):
    model = _wavenet("mulaw", torch.float32).to(DEVICE)
    assert generation.resolve_backend(model, "auto") == "torch"
    with pytest.raises(ParameterError, match="backend='numba' needs the model on the CPU"):
        model.generate(torch.zeros(1, 6, 2, device=DEVICE) - 3, backend="numba", progress=False)

    def refuse(*args, **kwargs):
        raise AssertionError("the numba (CPU) kernel ran for a CUDA model")

    monkeypatch.setattr(wavenet_numba, "stream", refuse)
    mel, lengths, uniforms = _wavenet_inputs(model)
    waveform, _ = model.generate(
        mel.to(DEVICE), mel_lengths=lengths, uniforms=uniforms, progress=False
    )  # backend "auto"
    _on_device([waveform], "WaveNet auto")


# -- Lightning training on the device --------------------------------------------------------
def _grammar_text(num_sentences: int = 150, seed: int = 0) -> str:
    r = random.Random(seed)
    subjects = ["the cat", "a dog", "the bird", "my friend", "the old man"]
    verbs = ["sees", "likes", "chases", "finds"]
    objects = ["the ball", "a fish", "the tree", "some bread"]
    return " ".join(
        f"{r.choice(subjects)} {r.choice(verbs)} {r.choice(objects)}." for _ in range(num_sentences)
    )


@pytest.mark.slow
def test_lm_training_on_device_learns_and_exports_a_folder_that_reloads_on_cpu(tmp_path):
    if not any(importlib.util.find_spec(m) for m in ("tensorboard", "tensorboardX")):
        pytest.skip("synesthesia.training.fit attaches Lightning's TensorBoardLogger, which "
                    "needs tensorboard or tensorboardX")  # fmt: skip
    import lightning as L

    from synesthesia.pipelines.lm import TextGenerator
    from synesthesia.training import LM_DEFAULTS, load_config, train_lm

    text = tmp_path / "grammar.txt"
    text.write_text(_grammar_text(), encoding="utf-8")
    out = tmp_path / "run"
    accelerator = "gpu" if ON_CUDA else "cpu"
    devices = f"[{DEVICE.index}]" if ON_CUDA and DEVICE.index is not None else "1"
    config = load_config(
        None,
        [
            f"out_dir={out}", f"data.text_path={text}", "data.block_size=32",
            "data.batch_size=16", "trainer.max_steps=60", "trainer.val_check_interval=30",
            "trainer.limit_val_batches=4", "trainer.num_sanity_val_steps=0",
            f"trainer.accelerator={accelerator}", f"trainer.devices={devices}",
            "trainer.progress_bar=false", "trainer.log_every_n_steps=5",
            "checkpoint.export=last", "optim.warmup_steps=5", "optim.lr=3e-3",
        ],
        defaults=LM_DEFAULTS,
    )  # fmt: skip
    probe = torch.randint(0, 20, (2, 32), generator=torch.Generator().manual_seed(0))
    trained = {}

    class _Capture(L.Callback):
        """At the end of training, while the model is still on the device."""

        def on_train_end(self, trainer, pl_module):
            model = pl_module.model.eval()
            trained["devices"] = {p.device.type for p in model.parameters()}
            with torch.no_grad():
                trained["logits"] = model(probe.to(pl_module.device)).cpu()
            trained["cpu_copy"] = copy.deepcopy(model).cpu()
            model.train()

    result = train_lm(config, callbacks=[_Capture()])
    assert trained["devices"] == {DEVICE.type}
    assert result.global_step == 60

    losses = []  # train/loss logged every 5 steps
    for path in sorted((out / "logs" / "csv").glob("version_*/metrics.csv")):
        with path.open() as handle:
            losses += [
                float(r["train/loss"]) for r in csv.DictReader(handle) if r.get("train/loss")
            ]
    assert len(losses) >= 10, losses
    assert sum(losses[-3:]) / 3 < 0.8 * sum(losses[:3]) / 3, losses  # CPU: 2.2 -> 1.2

    reloaded = TextGenerator.from_pretrained(result.model_dir).model  # on the CPU
    assert {p.device.type for p in reloaded.parameters()} == {"cpu"}
    gpu_on_cpu = trained["cpu_copy"]
    for (name, a), (_, b) in zip(
        reloaded.state_dict().items(), gpu_on_cpu.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), f"exported {name} differs from the trained weights"
    with torch.no_grad():
        cpu_logits = reloaded(probe)
        torch.testing.assert_close(cpu_logits, gpu_on_cpu(probe), rtol=0, atol=0)
    # the same weights on the device and on the CPU: float32 noise only (see RTOL)
    torch.testing.assert_close(cpu_logits, trained["logits"], rtol=RTOL, atol=ATOL)


# -- pipelines ------------------------------------------------------------------------------
@pytest.mark.parametrize("folder", ["caption_digits", "caption_digits_transformer"])
def test_shipped_captioner_with_map_location_captions_as_on_cpu(folder):
    from synesthesia.data.digit_strips import make_digit_strips
    from synesthesia.pipelines import ImageCaptioner
    from synesthesia.pipelines.pretrained import pretrained_path

    directory = pretrained_path(folder)
    strips = make_digit_strips(8, split="test", seed=3)
    images = list(strips.images)
    cpu = ImageCaptioner.from_pretrained(directory)(images, beam_size=3)
    captioner = ImageCaptioner.from_pretrained(directory, map_location=DEVICE)
    assert {p.device.type for p in captioner.model.parameters()} == {DEVICE.type}
    results = captioner(images, beam_size=3)
    assert [r.caption for r in results] == [r.caption for r in cpu]
    assert sum(r.caption == c for r, c in zip(results, strips.captions)) >= 6  # a trained model
    for r, ref in zip(results, cpu, strict=True):
        assert r.words == ref.words
        # beam scores (sums of log-probabilities) and attention weights: float32 noise
        assert abs(r.score - ref.score) < 1e-4, (r.score, ref.score)
        _close(r.attention_maps, ref.attention_maps, rtol=RTOL, atol=ATOL)
        if ref.ood_score is not None:
            assert r.is_ood == ref.is_ood
            assert abs(r.ood_score - ref.ood_score) <= 1e-3 * max(1.0, abs(ref.ood_score))


#: eSpeak NG's IPA (en-us) of three sentences, as ``TextProcessor("espeak").symbols`` gives
#: them: one symbol per character
IPA = {
    "Machines that see, hear and speak.": "məʃˈiːnz ðæt sˈiː, hˈɪɹ ænd spˈiːk.",
    "Place blue at F two now.": "plˈeɪs blˈuː æɾ ˈɛf tˈuː nˈaʊ.",
    "The old man found a fish in the river.": "ðɪ ˈoʊld mˈæn fˈaʊnd ɐ fˈɪʃ ɪnðə ɹˈɪvɚ.",
}
#: log-mel (natural log) of a whole sentence, CUDA vs CPU float32: float32 vs float64 on the
#: CPU differ by <= 3e-5 over these sentences (60 decoder steps, sharpened by 1.3)
MEL_ATOL = 1e-3


def _tts_pair(monkeypatch, *, fixed_symbols: bool):
    from synesthesia.pipelines.tts import TextToSpeech

    pair = [TextToSpeech.from_pretrained("tts_natural") for _ in range(2)]
    if fixed_symbols:
        for tts in pair:
            monkeypatch.setattr(tts.text_processor, "symbols", lambda text: list(IPA[text]))
    pair[1].acoustic_model.to(DEVICE)
    return pair


def _compare_mels(cpu_mels, device_mels) -> None:
    for (mel, alignment, symbols, stopped), ref in zip(device_mels, cpu_mels, strict=True):
        assert symbols == ref[2] and stopped == ref[3] and stopped
        assert mel.shape == ref[0].shape, (mel.shape, ref[0].shape)
        _close(mel, ref[0], rtol=0, atol=MEL_ATOL)
        _close(alignment, ref[1], rtol=0, atol=MEL_ATOL)


def test_tts_acoustic_model_on_device_gives_the_cpu_mels(monkeypatch):
    """``TextToSpeech.mels`` with the Tacotron 2 of ``tts_natural`` moved to the device; the
    text front end is replaced by fixed IPA (no eSpeak NG needed)."""
    cpu, device = _tts_pair(monkeypatch, fixed_symbols=True)
    seen = []
    infer = device.acoustic_model.infer

    def recording(tokens, token_lengths, **kwargs):
        seen.append(tokens.device)
        return infer(tokens, token_lengths, **kwargs)

    monkeypatch.setattr(device.acoustic_model, "infer", recording)
    sentences = list(IPA)
    _compare_mels(cpu.mels(sentences), device.mels(sentences))
    assert seen and all(d.type == DEVICE.type for d in seen), seen


def test_tts_text_to_speech_on_device_matches_cpu(monkeypatch):
    """The whole pipeline from text (eSpeak NG phonemes) with the acoustic model on the device;
    Griffin-Lim runs on the CPU in both (the pipeline vocodes there)."""
    pytest.importorskip("espeakng_loader")
    cpu, device = _tts_pair(monkeypatch, fixed_symbols=False)
    texts = ["Machines that see, hear and speak.", "Place blue at F two now."]
    expected, speeches = cpu.batch(texts), device.batch(texts)
    for speech, ref in zip(speeches, expected, strict=True):
        assert speech.sentences == ref.sentences and speech.symbols == ref.symbols
        assert speech.mel.shape == ref.mel.shape and speech.waveform.shape == ref.waveform.shape
        _close(speech.mel, ref.mel, rtol=0, atol=MEL_ATOL)
        # Griffin-Lim of mels that differ by float32 noise: the same sound (SNR > 30 dB)
        noise = (speech.waveform - ref.waveform).norm()
        assert noise < 0.03 * ref.waveform.norm(), (noise, ref.waveform.norm())
