"""Text-to-speech inference: text → tokens → Tacotron 2 log-mel → waveform (no Lightning).

The acoustic model predicts the log-mel of its AudioConfig; the vocoder is a trained WaveNet
when one is given (it must carry the *same* AudioConfig, else a ConfigMismatchError) and our
fast Griffin-Lim otherwise (:func:`~synesthesia.pipelines.vocoder.griffin_lim_from_log_mel`).
Long text is split into sentences (:func:`~synesthesia.text.split_sentences`); all sentences
of all texts of a call are decoded as batches and each text's sentences are joined with a
short pause.

References:
    Shen et al. 2018 (text → mel → vocoder); Griffin & Lim 1984.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import Tensor

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.functional.mel import sharpen_log_mel

__all__ = [
    "Speech",
    "TextToSpeech",
    "PEAK_LIMIT",
    "limit_peak",
    "load_acoustic_model",
    "read_synthesis_config",
    "write_acoustic_extras",
    "SYNTHESIS_CONFIG_NAME",
    "TEXT_PROCESSOR_NAME",
]

TEXT_PROCESSOR_NAME = "text_processor.json"
#: a voice's own synthesis settings (optional; read by ``TextToSpeech.from_pretrained``)
SYNTHESIS_CONFIG_NAME = "synthesis.json"
#: the settings ``synthesis.json`` may hold (keyword arguments of :class:`TextToSpeech`)
SYNTHESIS_SETTINGS = ("sharpen", "griffin_lim_iters")

#: the most mel frames a token may take before decoding is cut (a model that never emits
#: its stop token still ends); eSpeak-rate speech takes about 7 frames of 12.5 ms per phoneme
MAX_FRAMES_PER_TOKEN = 25
#: Griffin-Lim iterations of a voice without its own (``synthesis.json``)
GRIFFIN_LIM_ITERS = 32
#: the peak a text's waveform is scaled to when vocoding overshoots [-1, 1]
PEAK_LIMIT = 0.99


def limit_peak(waveform: Tensor) -> Tensor:
    """``waveform`` scaled to a peak of :data:`PEAK_LIMIT` when it overshoots [-1, 1] (one
    gain for the whole text: clipping would distort, the sharpened mel's loud frames
    overshoot most); unchanged otherwise."""
    peak = float(waveform.abs().max()) if waveform.numel() else 0.0
    return waveform * (PEAK_LIMIT / peak) if peak > 1.0 else waveform


@dataclass
class Speech:
    """One synthesised text.

    Attributes:
        waveform: (T,) float32 in [-1, 1]: a text whose vocoded peak exceeds 1 is scaled
            down to a peak of :data:`PEAK_LIMIT` as a whole (never clipped).
        sample_rate: Hz.
        mel: (M, N) the predicted log-mel of the whole text (sentences joined, pauses at
            ``log_floor``).
        alignments: one (N_steps, L) attention matrix per sentence (valid part only).
        sentences: the sentences the text was split into.
        symbols: the input symbols of each sentence (the alignments' token axis, without the
            end-of-sequence symbol, which is the last token).
        stopped: per sentence, whether the model emitted its stop token (False: cut at the
            maximum number of decoder steps).
    """

    waveform: Tensor
    sample_rate: int
    mel: Tensor
    alignments: list[Tensor] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)
    symbols: list[list[str]] = field(default_factory=list)
    stopped: list[bool] = field(default_factory=list)

    @property
    def duration(self) -> float:
        """Seconds of audio."""
        return self.waveform.numel() / self.sample_rate


def load_acoustic_model(directory: str | os.PathLike):
    """Load a Tacotron 2 model folder and its text processor (another architecture is a
    CheckpointError)."""
    from synesthesia.models import Tacotron2
    from synesthesia.pipelines._folder import load_model_folder, require_file
    from synesthesia.text import TextProcessor

    directory = Path(directory)
    model = load_model_folder(
        directory, Tacotron2, refusal=" model, not a 'tacotron2' acoustic model"
    )
    path = require_file(directory, TEXT_PROCESSOR_NAME)
    processor = TextProcessor.load(path)
    if len(processor.symbol_table) != model.embedding.num_embeddings:
        raise CheckpointError(
            f"model={str(directory)!r}: {TEXT_PROCESSOR_NAME} has {len(processor.symbol_table)} "
            f"symbols but the model embeds {model.embedding.num_embeddings}"
        )
    return model.eval(), processor


def read_synthesis_config(directory: str | os.PathLike) -> dict:
    """The settings of a voice folder's ``synthesis.json`` ({} without one).

    Raises:
        CheckpointError: the file is not a JSON object of known settings.
    """
    from synesthesia.utils import read_json

    path = Path(directory) / SYNTHESIS_CONFIG_NAME
    if not path.is_file():
        return {}
    settings = read_json(path)
    if not isinstance(settings, dict) or set(settings) - set(SYNTHESIS_SETTINGS):
        raise CheckpointError(
            f"model={str(directory)!r}: {SYNTHESIS_CONFIG_NAME} must be an object with keys "
            f"among {list(SYNTHESIS_SETTINGS)}, got {settings!r}"
        )
    return settings


def write_acoustic_extras(
    directory: str | os.PathLike, *, text_processor, corpus_settings: dict | None = None
) -> Path:
    """Write an acoustic model folder's extra files; returns ``text_processor.json``'s path.

    ``corpus_settings`` (the ``corpus.json`` of a corpus ``synesthesia data espeak`` wrote:
    voices, rates, pitches) is kept beside the model as the record of which eSpeak NG voice
    it imitates (:func:`synesthesia.data.espeak_corpus.reference_voice`).
    """
    from synesthesia.data.espeak_corpus import CORPUS_SETTINGS_NAME
    from synesthesia.utils import atomic_write_json

    path = Path(directory) / TEXT_PROCESSOR_NAME
    text_processor.save(path)
    if corpus_settings is not None:
        atomic_write_json(Path(directory) / CORPUS_SETTINGS_NAME, corpus_settings)
    return path


class TextToSpeech:
    """Text → waveform.

    Args:
        acoustic_model: a :class:`~synesthesia.models.Tacotron2`.
        text_processor: the :class:`~synesthesia.text.TextProcessor` it was trained with.
        vocoder: a :class:`~synesthesia.models.WaveNet` with the same AudioConfig, or None
            (or ``"griffin-lim"``) for Griffin-Lim.
        griffin_lim_iters: Griffin-Lim iterations.
        momentum: fast Griffin-Lim momentum.
        stop_threshold: stop-token probability that ends a sentence.
        max_frames_per_token: decoding of a sentence is cut after this many frames per input
            token (:data:`MAX_FRAMES_PER_TOKEN`).
        max_sentence_chars: longer sentences are split at commas or spaces.
        pause: seconds of silence between the sentences of one text.
        batch_size: sentences decoded together.
        temperature: WaveNet sampling temperature.
        attention_window: monotonic attention constraint of free-running decoding (see
            :meth:`~synesthesia.models.Tacotron2.infer`); None (default): unconstrained (on the
            second training run (v2, docs/results.md) the (1, 3) window raised held-out GRID WER
            from 0.158 to 0.192).
        sharpen: post-filter of the predicted log-mels before vocoding
            (:func:`synesthesia.functional.sharpen_log_mel`): each band's excursions around its
            mean over the sentence are multiplied by this factor; 1 (default) leaves them
            as predicted. A voice folder may set its own (and its ``griffin_lim_iters``) in
            ``synthesis.json``, which :meth:`from_pretrained` reads.
    """

    def __init__(
        self, acoustic_model, text_processor, *, vocoder=None,
        griffin_lim_iters: int = GRIFFIN_LIM_ITERS,
        momentum: float = 0.99, stop_threshold: float = 0.5,
        max_frames_per_token: int = MAX_FRAMES_PER_TOKEN, max_sentence_chars: int = 200,
        pause: float = 0.2, batch_size: int = 8, temperature: float = 1.0,
        attention_window: tuple[int, int] | None = None, sharpen: float = 1.0,
    ) -> None:  # fmt: skip
        from synesthesia.models import Tacotron2, WaveNet
        from synesthesia.text import TextProcessor

        if not isinstance(acoustic_model, Tacotron2):
            raise ParameterError(f"acoustic_model={type(acoustic_model).__name__} must be a "
                                 "Tacotron2")  # fmt: skip
        if not isinstance(text_processor, TextProcessor):
            raise ParameterError(f"text_processor={type(text_processor).__name__} must be a "
                                 "TextProcessor")  # fmt: skip
        if len(text_processor.symbol_table) != acoustic_model.embedding.num_embeddings:
            raise ParameterError(
                f"text_processor has {len(text_processor.symbol_table)} symbols but the "
                f"acoustic model embeds {acoustic_model.embedding.num_embeddings}"
            )
        if vocoder == "griffin-lim":
            vocoder = None
        if vocoder is not None:
            if not isinstance(vocoder, WaveNet):
                raise ParameterError(f"vocoder={vocoder!r} must be a WaveNet, 'griffin-lim' "
                                     "or None")  # fmt: skip
            # the vocoder must consume exactly the mels the acoustic model predicts
            acoustic_model.audio_config.check_compatible(vocoder.audio_config, what="vocoder")
        for name, value, low in (("griffin_lim_iters", griffin_lim_iters, 1),
                                 ("max_frames_per_token", max_frames_per_token, 1),
                                 ("max_sentence_chars", max_sentence_chars, 20),
                                 ("batch_size", batch_size, 1)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ParameterError(f"{name}={value!r} must be an integer >= {low}")
        if not 0 <= float(pause) <= 10:
            raise ParameterError(f"pause={pause!r} must be in [0, 10] seconds")
        if (
            isinstance(sharpen, bool)
            or not isinstance(sharpen, (int, float))
            or not (0 < sharpen <= 3)
        ):
            raise ParameterError(f"sharpen={sharpen!r} must be a number in (0, 3]")
        self.acoustic_model = acoustic_model.eval()
        self.text_processor = text_processor
        self.vocoder = None if vocoder is None else vocoder.eval()
        self.audio_config = acoustic_model.audio_config
        self.griffin_lim_iters = griffin_lim_iters
        self.momentum = float(momentum)
        self.stop_threshold = float(stop_threshold)
        self.max_frames_per_token = max_frames_per_token
        self.max_sentence_chars = max_sentence_chars
        self.pause = float(pause)
        self.batch_size = batch_size
        self.temperature = float(temperature)
        self.attention_window = None if attention_window is None else tuple(attention_window)
        self.sharpen = float(sharpen)

    @classmethod
    def from_pretrained(
        cls, model: str | os.PathLike | None = None, *, vocoder: str | os.PathLike | None = None,
        **kwargs,
    ) -> TextToSpeech:  # fmt: skip
        """Load an acoustic model and its vocoder.

        Args:
            model: a model folder, the name of a shipped voice (``"tts_natural"``,
                ``"tts_espeak"``), or None: :data:`~synesthesia.pipelines.pretrained.
                DEFAULT_VOICE`.
            vocoder: None or ``"griffin-lim"``: Griffin-Lim; ``"wavenet"``: the WaveNet
                shipped for that voice (:data:`~synesthesia.pipelines.pretrained.
                SHIPPED_VOCODERS`); otherwise a WaveNet folder.
            **kwargs: the constructor's settings (``griffin_lim_iters`` ...); they override the
                folder's ``synthesis.json`` (``sharpen``, ``griffin_lim_iters``) when it has
                one.
        """
        from synesthesia.pipelines.pretrained import (
            DEFAULT_VOICE,
            PRETRAINED_DIR,
            SHIPPED_VOCODERS,
            pretrained_path,
            resolve_model,
        )
        from synesthesia.pipelines.vocoder import load_vocoder

        directory = resolve_model(model, default=DEFAULT_VOICE)
        acoustic, processor = load_acoustic_model(directory)
        kwargs = {**read_synthesis_config(directory), **kwargs}
        if vocoder == "wavenet":
            name = directory.name if directory.parent == PRETRAINED_DIR else None
            if name not in SHIPPED_VOCODERS:
                raise ParameterError(
                    f"vocoder='wavenet': no WaveNet ships for model={str(model)!r}; voices "
                    f"with one: {sorted(SHIPPED_VOCODERS)} (or give a WaveNet folder)"
                )
            vocoder = pretrained_path(SHIPPED_VOCODERS[name])
        wavenet = None if vocoder in (None, "griffin-lim") else load_vocoder(vocoder)
        return cls(acoustic, processor, vocoder=wavenet, **kwargs)

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the acoustic model folder :meth:`from_pretrained` reads (model +
        ``text_processor.json``, and ``synthesis.json`` when ``sharpen`` or
        ``griffin_lim_iters`` differ from the defaults); a WaveNet vocoder keeps its own
        folder."""
        from synesthesia.pipelines._folder import seal_folder
        from synesthesia.utils import atomic_write_json

        directory = Path(self.acoustic_model.save_pretrained(directory))
        write_acoustic_extras(directory, text_processor=self.text_processor)
        settings = {"sharpen": self.sharpen, "griffin_lim_iters": self.griffin_lim_iters}
        defaults = {"sharpen": 1.0, "griffin_lim_iters": GRIFFIN_LIM_ITERS}
        if settings != defaults:  # the post-filter and the vocoder setting are the voice's
            atomic_write_json(directory / SYNTHESIS_CONFIG_NAME, settings)
        return seal_folder(directory)

    @property
    def sample_rate(self) -> int:
        return self.audio_config.sample_rate

    # ------------------------------------------------------------------------ acoustic
    def _sentences(self, text: str) -> list[str]:
        from synesthesia.text import normalize_text, split_sentences

        if not isinstance(text, str):
            raise ParameterError(f"text={text!r} must be a string")
        sentences = [
            s for s in split_sentences(text, max_chars=self.max_sentence_chars)
            if any(c.isalnum() for c in normalize_text(s))
        ]  # fmt: skip
        if not sentences:
            raise ParameterError(f"text={text[:80]!r} has nothing to speak")
        return sentences

    @torch.no_grad()
    def mels(self, sentences: Sequence[str]) -> list[tuple[Tensor, Tensor, list[str], bool]]:
        """Log-mels of sentences, decoded in batches of similar length (each through the
        ``sharpen`` post-filter).

        Returns:
            per sentence ``(mel (M, N), alignment (N_steps, L), symbols, stopped)``.
        """
        model = self.acoustic_model
        device = model.embedding.weight.device
        symbols = [self.text_processor.symbols(s) for s in sentences]
        order = sorted(range(len(sentences)), key=lambda i: len(symbols[i]))
        results: list = [None] * len(sentences)
        r = model.reduction_factor
        for start in range(0, len(order), self.batch_size):
            chosen = order[start : start + self.batch_size]
            tokens, token_lengths = self.text_processor.batch([sentences[i] for i in chosen])
            tokens, token_lengths = tokens.to(device), token_lengths.to(device)
            steps = math.ceil(int(token_lengths.max()) * self.max_frames_per_token / r)
            mel, mel_lengths, alignments = model.infer(
                tokens, token_lengths, max_decoder_steps=steps,
                stop_threshold=self.stop_threshold, attention_window=self.attention_window,
            )  # fmt: skip
            floor = math.log(model.audio_config.log_floor)
            for row, index in enumerate(chosen):
                frames = int(mel_lengths[row])
                num_steps = math.ceil(frames / r)
                length = int(token_lengths[row])
                stopped = frames < steps * r or num_steps < alignments.shape[1]
                results[index] = (
                    sharpen_log_mel(
                        mel[row, :, :frames].float().cpu(), factor=self.sharpen, floor=floor
                    ),
                    alignments[row, :num_steps, :length].float().cpu(),
                    symbols[index],
                    bool(stopped),
                )
        return results

    # ------------------------------------------------------------------------- vocoder
    @torch.no_grad()
    def vocode(self, mels: Sequence[Tensor], *, progress: bool = False) -> list[Tensor]:
        """Waveforms (T_i,) of log-mels (M, N_i) with the WaveNet or Griffin-Lim."""
        from synesthesia.pipelines.vocoder import griffin_lim_from_log_mel

        c = self.audio_config
        if self.vocoder is None:
            out = []
            floor = math.log(c.log_floor)
            min_frames = math.ceil((c.n_fft // 2 + 1) / c.hop_length) + 1  # reflect padding
            for mel in mels:  # one by one: Griffin-Lim cost is linear in frames anyway
                # silent frames appended (at least one), so the result can be cut to
                # N * hop_length samples, what a WaveNet gives for N frames
                frames = mel.shape[-1]
                extra = max(1, min_frames - frames)
                silence = mel.new_full((mel.shape[0], extra), floor)
                waveform = griffin_lim_from_log_mel(
                    torch.cat([mel, silence], -1).double(), c, n_iter=self.griffin_lim_iters,
                    momentum=self.momentum, length=(frames + extra - 1) * c.hop_length,
                )[: frames * c.hop_length]  # fmt: skip
                out.append(waveform.float())
            return out
        lengths = torch.tensor([m.shape[-1] for m in mels], dtype=torch.long)
        batch = mels[0].new_full((len(mels), c.n_mels, int(lengths.max())), math.log(c.log_floor))
        for row, mel in enumerate(mels):
            batch[row, :, : mel.shape[-1]] = mel
        device = next(self.vocoder.parameters()).device
        waveforms, waveform_lengths = self.vocoder.generate(
            batch.to(device), mel_lengths=lengths.to(device), audio_config=c,
            temperature=self.temperature, generator=torch.Generator().manual_seed(0),
            progress=progress,
        )  # fmt: skip
        return [waveforms[i, : int(waveform_lengths[i])].float().cpu() for i in range(len(mels))]

    # ---------------------------------------------------------------------------- text
    def __call__(self, text: str, *, progress: bool = False) -> Speech:
        """Synthesise one text (any length; split into sentences)."""
        return self.batch([text], progress=progress)[0]

    def batch(self, texts: Sequence[str], *, progress: bool = False) -> list[Speech]:
        """Synthesise several texts; every sentence of every text is decoded in batches."""
        if isinstance(texts, str) or not isinstance(texts, Sequence) or not texts:
            raise ParameterError(f"texts={texts!r} must be a non-empty list of strings")
        split = [self._sentences(t) for t in texts]
        flat = [s for sentences in split for s in sentences]
        decoded = self.mels(flat)
        waveforms = self.vocode([d[0] for d in decoded], progress=progress)
        c = self.audio_config
        gap = torch.zeros(int(round(self.pause * c.sample_rate)))
        gap_frames = int(round(self.pause * c.sample_rate / c.hop_length))
        floor = math.log(c.log_floor)
        out, position = [], 0
        for sentences in split:
            parts = range(position, position + len(sentences))
            position += len(sentences)
            pieces, mel_pieces = [], []
            for k, index in enumerate(parts):
                if k:
                    pieces.append(gap)
                    mel_pieces.append(torch.full((c.n_mels, gap_frames), floor))
                pieces.append(waveforms[index])
                mel_pieces.append(decoded[index][0])
            waveform = limit_peak(torch.cat(pieces))
            out.append(Speech(
                waveform=waveform, sample_rate=c.sample_rate, mel=torch.cat(mel_pieces, -1),
                alignments=[decoded[i][1] for i in parts], sentences=list(sentences),
                symbols=[decoded[i][2] for i in parts], stopped=[decoded[i][3] for i in parts],
            ))  # fmt: skip
        return out
