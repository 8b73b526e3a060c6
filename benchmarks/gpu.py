"""GPU timings: the same work on the CPU and on CUDA in one process, and the speed-up.

Measured (float32, TF32 off; inputs already on the device, so transfers are left out):

* (a) mel spectrogram of a batch of 16 x 10 s at 16 kHz (the TTS voices' AudioConfig:
  n_fft 800, hop 200, 80 slaney mels up to 8 kHz, power 1);
* (b) Griffin-Lim, 64 iterations, momentum 0.99, random initial phase, on one 5 s mel's
  magnitude (the NNLS inverse mel before it, 100 iterations, is its own row);
* (c) one training step (forward + backward + gradient clipping at 1 + AdamW) at the
  shipped sizes and the recipes' batch sizes: Tacotron 2 of ``tts_natural`` (batch 16 of
  sentences of 30-60 IPA symbols, 7 frames per symbol: configs/tts/piper.yaml, no scheduled
  sampling), the Transformer captioner of ``caption_digits_transformer`` (batch 32 strips:
  configs/caption/digits_transformer.yaml) and the WaveNet of configs/vocoder/espeak.yaml
  (batch 4 crops of 3000 samples);
* (d) inference: the ``tts_natural`` acoustic model decoding 8 sentences in one batch (eSpeak
  NG phonemes when it loads, else the same sentences' IPA stored below), both shipped
  captioners beam-3 decoding 64 digit strips (images/s), and WaveNet generation of 1 s of
  16 kHz audio at batch 1 and 8 (samples/s per utterance; random weights: speed does not
  depend on training) with the torch backend on CUDA against the CPU's torch and numba
  backends.

Timing: median wall time of ``--repeats`` calls after one untimed warm-up call, with
``torch.cuda.synchronize()`` after each call on CUDA; WaveNet generation: one timed call
after a short warm-up. Speed-up = CPU time / CUDA time. The CPU side uses ``--threads``
torch threads (default 1). Without CUDA the CUDA column reads "n/a".

Run:  python benchmarks/gpu.py                (a few minutes on a GPU machine)
      python benchmarks/gpu.py --quick        (1 repeat, 0.1 s of WaveNet audio)
      python benchmarks/gpu.py --threads 2
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml
from _timing import markdown_table, median_time

import synesthesia.functional as S
from synesthesia.config import AudioConfig
from synesthesia.models import create_model, load_pretrained
from synesthesia.pipelines.pretrained import pretrained_path

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
#: benchmarks/tts.py's sentences (4 held-out GRID commands, 4 general) and their eSpeak NG
#: IPA (en-us), used when eSpeak NG does not load
SENTENCES = {
    "set white with j five soon": "sˈɛt wˈaɪt wɪð dʒˈeɪ fˈaɪv sˈuːn",
    "set blue at z two please": "sˈɛt blˈuː æt zˈiː tˈuː plˈiːz",
    "set green with n seven now": "sˈɛt ɡɹˈiːn wɪð ˈɛn sˈɛvən nˈaʊ",
    "set white in e five please": "sˈɛt wˈaɪt ɪn ˈiː fˈaɪv plˈiːz",
    "The market sells fresh fish every Friday.": ("ðə mˈɑːɹkɪt sˈɛlz fɹˈɛʃ fˈɪʃ ˈɛvɹi fɹˈaɪdeɪ."),
    "Did a young girl lose the old fence beside the library?": (
        "dˈɪd ɐ jˈʌŋ ɡˈɜːl lˈuːz ðɪ ˈoʊld fˈɛns bᵻsˌaɪd ðə lˈaɪbɹɛɹi?"
    ),
    "Did the captain open an empty bottle at the station?": (
        "dˈɪd ðə kˈæptɪn ˈoʊpən ɐn ˈɛmpti bˈɑːɾəl æt ðə stˈeɪʃən?"
    ),
    "The storm knocked down two trees on our street.": (
        "ðə stˈɔːɹm nˈɑːkt dˌaʊn tˈuː tɹˈiːz ˌɔn ˌaʊɚ stɹˈiːt."
    ),
}


def _timer(device: torch.device, repeats: int) -> Callable[[Callable[[], object]], float]:
    """Median seconds of a call on ``device`` (synchronised on CUDA), after a warm-up."""

    def timed(fn: Callable[[], object]) -> float:
        def call() -> None:
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        return median_time(call, repeats)

    return timed


def _vocoder_recipe() -> dict:
    """The ``model`` section of configs/vocoder/espeak.yaml (name and kwargs)."""
    return yaml.safe_load((CONFIGS / "vocoder" / "espeak.yaml").read_text())["model"]


def _audio_config() -> AudioConfig:
    return AudioConfig.from_dict(_vocoder_recipe()["kwargs"]["audio_config"])


# -- (a), (b) spectral work ----------------------------------------------------------------
def spectral_jobs(device: torch.device) -> dict[str, Callable[[], object]]:
    c = _audio_config()
    spectral = dict(n_fft=c.n_fft, hop_length=c.hop_length, win_length=c.win_length,
                    window="hann", center=True, pad_mode="reflect")  # fmt: skip
    mel_kw = dict(sample_rate=c.sample_rate, n_mels=c.n_mels, f_min=c.f_min, f_max=c.f_max,
                  mel_scale="slaney", norm="slaney")  # fmt: skip
    g = torch.Generator().manual_seed(0)
    batch = (0.1 * torch.randn(16, 10 * c.sample_rate, generator=g)).to(device)
    speech = (0.1 * torch.randn(5 * c.sample_rate, generator=g)).to(device)
    mel = S.mel_spectrogram(speech, **spectral, power=1.0, **mel_kw)  # (M, N), 5 s
    magnitude = S.inverse_mel(mel, sample_rate=c.sample_rate, n_fft=c.n_fft, f_min=c.f_min,
                              f_max=c.f_max, power=1.0, n_iter=100)  # fmt: skip
    return {
        "(a) mel spectrogram, 16 x 10 s": lambda: S.mel_spectrogram(
            batch, **spectral, power=1.0, **mel_kw
        ),
        "(b) inverse mel (NNLS, 100 it), 5 s": lambda: S.inverse_mel(
            mel,
            sample_rate=c.sample_rate,
            n_fft=c.n_fft,
            f_min=c.f_min,
            f_max=c.f_max,
            power=1.0,
            n_iter=100,
        ),  # fmt: skip
        "(b) Griffin-Lim 64 it, 5 s": lambda: S.griffin_lim(
            magnitude, n_iter=64, momentum=0.99, init="random", seed=0, **spectral
        ),
    }


# -- (c) training steps --------------------------------------------------------------------
def _train_step(model: torch.nn.Module, loss_fn: Callable[[], torch.Tensor], *, lr: float,
                weight_decay: float) -> Callable[[], None]:  # fmt: skip
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)

    def step() -> None:
        loss = loss_fn()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    return step


def training_jobs(device: torch.device) -> dict[str, Callable[[], object]]:
    g = torch.Generator().manual_seed(0)
    jobs = {}

    # Tacotron 2 of tts_natural, batch 16 (configs/tts/piper.yaml)
    tts = load_pretrained(pretrained_path("tts_natural"), map_location=device)
    token_lengths = torch.linspace(60, 30, 16).round().long()
    tokens = torch.randint(4, tts.embedding.num_embeddings, (16, 60), generator=g)
    tokens = tokens * (torch.arange(60) < token_lengths[:, None])
    mel_lengths = 7 * token_lengths
    mel = torch.randn(16, tts.n_mels, int(mel_lengths.max()), generator=g) - 4.0
    tts_batch = [t.to(device) for t in (tokens, token_lengths, mel, mel_lengths)]

    def tts_loss() -> torch.Tensor:
        tokens, token_lengths, mel, mel_lengths = tts_batch
        outputs = tts(tokens, token_lengths, mel, mel_lengths)
        return tts.loss(outputs, mel, mel_lengths, token_lengths=token_lengths, mel_loss="l1",
                        guided_attention_weight=1.0, guided_sigma=0.2)["loss"]  # fmt: skip

    jobs["(c) train step Tacotron 2 (tts_natural), B=16"] = _train_step(
        tts, tts_loss, lr=5e-4, weight_decay=1e-6
    )

    # Transformer captioner of caption_digits_transformer, batch 32
    from synesthesia.data.digit_strips import make_digit_strips
    from synesthesia.text.vocab import Vocabulary

    folder = pretrained_path("caption_digits_transformer")
    captioner = load_pretrained(folder, map_location=device)
    vocab = Vocabulary.load(folder / "vocab.json")
    strips = make_digit_strips(32, split="train", seed=0)
    encoded = [vocab.encode(caption) for caption in strips.captions]
    caption_lengths = torch.tensor([len(ids) for ids in encoded])
    captions = torch.full((32, int(caption_lengths.max())), vocab.pad_id, dtype=torch.long)
    for row, ids in enumerate(encoded):
        captions[row, : len(ids)] = torch.tensor(ids)
    caption_batch = [t.to(device) for t in (strips.images, captions, caption_lengths)]

    def caption_loss() -> torch.Tensor:
        logits, alphas = captioner(*caption_batch)
        return captioner.loss(logits, alphas, *caption_batch[1:])["loss"]

    jobs["(c) train step Transformer captioner, B=32"] = _train_step(
        captioner, caption_loss, lr=1e-3, weight_decay=0.01
    )

    # WaveNet of configs/vocoder/espeak.yaml, batch 4 crops of 3000 samples
    wavenet = _wavenet(device)
    hop = wavenet.hop_length
    waveform = (0.2 * torch.randn(4, 3000, generator=g)).clamp(-1, 1)
    wave_mel = torch.randn(4, wavenet.cond_channels, 1 + 3000 // hop, generator=g) - 4.0
    wave_batch = [t.to(device) for t in (waveform, wave_mel)]
    mel_frames = torch.full((4,), 1 + 3000 // hop, device=device)
    samples = torch.full((4,), 3000, device=device)

    def wavenet_loss() -> torch.Tensor:
        waveform, mel = wave_batch
        output = wavenet(waveform, mel, mel_lengths=mel_frames)
        return wavenet.loss(output, waveform, waveform_lengths=samples)

    jobs["(c) train step WaveNet (vocoder recipe), B=4"] = _train_step(
        wavenet, wavenet_loss, lr=3e-3, weight_decay=0.0
    )
    return jobs


def _wavenet(device: torch.device):
    recipe = _vocoder_recipe()
    kwargs = dict(recipe["kwargs"], audio_config=_audio_config())
    torch.manual_seed(0)
    return create_model(recipe["name"], **kwargs).to(device)


# -- (d) inference -------------------------------------------------------------------------
def _tts_tokens(processor) -> tuple[torch.Tensor, torch.Tensor, str]:
    """Token ids (8, L) and lengths of :data:`SENTENCES`, and where the phonemes came from."""
    try:
        tokens, lengths = processor.batch(list(SENTENCES))
        return tokens, lengths, "eSpeak NG"
    except Exception:  # no eSpeak NG library or voice data: the stored IPA
        table = processor.symbol_table
        items = [torch.tensor(table.encode(list(ipa))) for ipa in SENTENCES.values()]
        lengths = torch.tensor([len(t) for t in items])
        tokens = torch.nn.utils.rnn.pad_sequence(items, batch_first=True)
        return tokens, lengths, "stored IPA"


def inference_jobs(device: torch.device, notes: list[str]) -> dict[str, tuple[Callable, float]]:
    """name → (call, units of work per call) for the rates of (d)."""
    from synesthesia.data.digit_strips import make_digit_strips
    from synesthesia.pipelines import ImageCaptioner
    from synesthesia.pipelines.tts import MAX_FRAMES_PER_TOKEN, load_acoustic_model

    model, processor = load_acoustic_model(pretrained_path("tts_natural"))
    model.to(device)
    tokens, lengths, source = _tts_tokens(processor)
    steps = math.ceil(int(lengths.max()) * MAX_FRAMES_PER_TOKEN / model.reduction_factor)
    tokens, lengths = tokens.to(device), lengths.to(device)
    with torch.no_grad():
        _, mel_lengths, _ = model.infer(tokens, lengths, max_decoder_steps=steps)
    c = model.audio_config
    seconds = float(mel_lengths.sum()) * c.hop_length / c.sample_rate
    if device.type == "cpu":
        notes.append(f"TTS: 8 sentences ({source}), {seconds:.1f} s of speech")
    jobs: dict[str, tuple[Callable, float]] = {
        "(d) TTS acoustic model, 8 sentences (s of speech/s)": (
            lambda: model.infer(tokens, lengths, max_decoder_steps=steps),
            seconds,
        )
    }
    images = list(make_digit_strips(64, split="test", seed=0).images)
    for name in ("caption_digits", "caption_digits_transformer"):
        captioner = ImageCaptioner.from_pretrained(pretrained_path(name), map_location=device)
        jobs[f"(d) {name} beam 3, 64 strips (images/s)"] = (
            lambda captioner=captioner: captioner(images, beam_size=3),
            float(len(images)),
        )
    return jobs


def wavenet_rate(
    model, *, batch: int, frames: int, backend: str, device: torch.device
) -> float:  # fmt: skip
    """Samples per second per utterance of one ``generate`` call (after a 2-frame warm-up)."""
    g = torch.Generator().manual_seed(0)
    mel = (torch.randn(batch, model.cond_channels, frames, generator=g) - 4.0).to(device)
    model.generate(mel[..., :2], progress=False, backend=backend)  # compile / allocate
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    wave, _ = model.generate(mel, progress=False, backend=backend)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return wave.shape[1] / (time.perf_counter() - start)


# -- output --------------------------------------------------------------------------------
#: a measurement that raised (its error is in the notes under the table)
FAILED = "failed"


def _ms(seconds: float | str) -> str:
    return seconds if isinstance(seconds, str) else f"{seconds * 1e3:,.1f} ms"


def _rate(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:,.1f}"


def _ratio(slow: float | str, fast: float | str) -> str:
    if isinstance(slow, str) or isinstance(fast, str):
        return "n/a"
    return f"{slow / fast:,.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, 0.1 s of WaveNet audio")
    parser.add_argument("--threads", type=int, default=1, help="CPU torch threads (default 1)")
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats (median)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    repeats = args.repeats or (1 if args.quick else 5)
    cpu = torch.device("cpu")
    cuda = torch.device("cuda") if torch.cuda.is_available() else None
    devices = [cpu] + ([cuda] if cuda else [])
    gpu_name = torch.cuda.get_device_name(cuda) if cuda else "no CUDA device"
    print(f"torch {torch.__version__}; CPU: {torch.get_num_threads()} torch thread(s); "
          f"CUDA: {gpu_name}; median of {repeats} after a warm-up")  # fmt: skip

    notes: list[str] = []
    absent = FAILED if cuda else "n/a"  # a CUDA cell with no value

    def attempt(what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)``, or FAILED (and a note) when it raises: one broken path keeps
        the rest of the table."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # reported in the notes under the table
            message = " ".join(str(exc).split())[:300]
            notes.append(f"FAILED {what}: {type(exc).__name__}: {message}")
            return FAILED

    rows = []
    for jobs in (spectral_jobs, training_jobs):
        times: dict[str, dict[str, float | str]] = {}
        for d in devices:
            built = attempt(f"{jobs.__name__} on {d.type}", jobs, d)
            for name, fn in ({} if built == FAILED else built).items():
                times.setdefault(name, {})[d.type] = attempt(
                    f"{name} on {d.type}", _timer(d, repeats), fn
                )
        for name, by_device in times.items():
            cpu_time, cuda_time = by_device.get("cpu", FAILED), by_device.get("cuda", absent)
            rows.append((name, _ms(cpu_time), _ms(cuda_time), _ratio(cpu_time, cuda_time)))

    rates: dict[str, dict[str, float | str]] = {}
    for d in devices:
        built = attempt(f"inference_jobs on {d.type}", inference_jobs, d, notes)
        for name, (fn, work) in ({} if built == FAILED else built).items():
            with torch.no_grad():
                timed = attempt(f"{name} on {d.type}", _timer(d, repeats), fn)
            rates.setdefault(name, {})[d.type] = timed if timed == FAILED else work / timed
    for name, by_device in rates.items():
        cpu_rate, cuda_rate = by_device.get("cpu", FAILED), by_device.get("cuda", absent)
        rows.append((name, _rate(cpu_rate), _rate(cuda_rate), _ratio(cuda_rate, cpu_rate)))

    from synesthesia.models.wavenet import numba_backend

    seconds = 0.1 if args.quick else 1.0
    model = _wavenet(cpu).eval()
    frames = round(seconds * model.audio_config.sample_rate / model.hop_length)
    twin = _wavenet(cuda).eval() if cuda else None
    cpu_backends = ["torch"] + (["numba"] if numba_backend.numba_available() else [])
    for batch in (1, 8):
        size = dict(batch=batch, frames=frames)
        cuda_rate = absent
        if cuda:
            what = f"WaveNet batch {batch} on cuda"
            cuda_rate = attempt(what, wavenet_rate, twin, **size, backend="torch", device=cuda)
        for backend in cpu_backends:
            what = f"WaveNet batch {batch} on cpu ({backend})"
            cpu_rate = attempt(what, wavenet_rate, model, **size, backend=backend, device=cpu)
            rows.append((
                f"(d) WaveNet {seconds:g} s, batch {batch}, CPU {backend} (samples/s)",
                _rate(cpu_rate), _rate(cuda_rate), _ratio(cuda_rate, cpu_rate),
            ))  # fmt: skip
    if not numba_backend.numba_available():
        notes.append("numba is not installed: no CPU numba row")
    notes.append(
        f"WaveNet: {model.num_parameters / 1e6:.2f} M parameters, "
        f"{model.macs_per_sample() / 1e6:.3f} M MACs/sample, CUDA runs the torch backend"
    )
    print()
    print(markdown_table(("measurement", f"CPU ({args.threads} thr)", "CUDA", "CUDA speed-up"),
                         rows))  # fmt: skip
    print()
    for note in notes:
        print(f"- {note}")


if __name__ == "__main__":
    main()
