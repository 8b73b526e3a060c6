"""Text-to-speech training: a Tacotron 2 learns log-mels from the texts of a speech folder.

The data is an LJSpeech-layout folder (``metadata.csv`` ``id|text|normalized text`` +
``wavs/``), e.g. the corpus ``synesthesia data espeak`` writes. Every utterance is loaded once
at the model's sample rate; its target is the log-mel of the whole utterance
(``LogMelSpectrogram.from_config(audio_config)``, the representation every vocoder here
consumes) and its input the token ids of its *normalized* text (LJSpeech's third column,
falling back to the second when empty) through a :class:`~synesthesia.text.TextProcessor`.

With ``data.drop_heldout`` (default) utterances whose text is a held-out test sentence
(:func:`synesthesia.data.sentences.is_heldout_sentence`) never enter training or
validation, so the intelligibility of held-out sentences measures generalisation.

Training batches are length-bucketed: a batch is ``batch_size`` neighbours in the order of
mel length starting at a random position, drawn by a resumable
:class:`~synesthesia.training.data.RandomBatchStream` (batch ``j`` depends only on
``(seed, j)``), so little compute is spent on padding. Validation computes the same loss on
fixed held-out utterances plus the diagonality of the teacher-forced alignments, and writes an
alignment figure (``out_dir/alignments/step=N.png``, and to TensorBoard).

The exported model folder holds ``config.json`` (with the AudioConfig),
``model.safetensors`` and ``text_processor.json`` (mode, voice and symbol table).

References:
    Shen et al. 2018 (Tacotron 2 training: teacher forcing, MSE before and after the post-net,
    stop-token BCE); Tachibana et al. 2017 (guided attention); Ito & Johnson 2017 (LJSpeech).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from synesthesia.config import AudioConfig
from synesthesia.data.espeak_corpus import CORPUS_SETTINGS_NAME
from synesthesia.data.speech import collate_tts
from synesthesia.errors import ParameterError
from synesthesia.models import create_model
from synesthesia.pipelines.tts import TEXT_PROCESSOR_NAME, TextToSpeech, write_acoustic_extras
from synesthesia.text import TextProcessor
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import check_data_int, fixed_loader, stream_loader
from synesthesia.training.fit import FitResult
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train

__all__ = [
    "TTS_DEFAULTS",
    "TTS_TASK",
    "TEXT_PROCESSOR_NAME",
    "TTSDataModule",
    "TTSSystem",
    "BucketSampler",
    "collate_tts",
    "train_tts",
]

log = logging.getLogger(__name__)


#: defaults of ``synesthesia tts train`` (configs/tts/espeak.yaml spells them out)
TTS_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
TTS_DEFAULTS["out_dir"] = "runs/tts"
TTS_DEFAULTS["model"].update(name="tacotron2_tiny", kwargs={})
TTS_DEFAULTS["data"] = {
    "root": None,
    "text_mode": "phonemes",
    "voice": "en-us",
    "val_fraction": 0.05,
    "max_val_utterances": 32,
    "max_utterances": None,
    "max_frames": 1000,
    "drop_heldout": True,
    "batch_size": 16,
    "num_workers": 0,
}
TTS_DEFAULTS["loss"] = {
    "mel_loss": "l2",
    "guided_attention_weight": 1.0,
    "guided_sigma": 0.2,
    # scheduled sampling: the self-feeding probability ramps linearly from 0 at step
    # self_feeding_start to self_feeding_max at self_feeding_end (0 = pure teacher forcing)
    "self_feeding_max": 0.0,
    "self_feeding_start": 0,
    "self_feeding_end": 1,
}
TTS_DEFAULTS["optim"].update(lr=1.0e-3, warmup_steps=100, weight_decay=1.0e-6)
TTS_DEFAULTS["trainer"].update(val_check_interval=200, num_sanity_val_steps=0)


class BucketSampler:
    """Length-bucketed random batches: ``generator → collate_tts(batch_size neighbours)``.

    The utterances are ordered by mel length once; a batch takes ``batch_size`` consecutive
    ones from a uniformly random start (clamped at the end), so padding stays small while
    every utterance is equally likely to be drawn (up to the ends of the order).

    Args:
        items: ``[(tokens (L,), mel (M, N)), ...]``.
        batch_size: utterances per batch.
    """

    def __init__(self, items: Sequence[tuple[Tensor, Tensor]], *, batch_size: int) -> None:
        self.items = sorted(items, key=lambda item: item[1].shape[-1])
        self.batch_size = min(batch_size, len(items))

    def __call__(self, generator: torch.Generator) -> dict[str, Tensor]:
        last_start = len(self.items) - self.batch_size
        start = int(torch.randint(last_start + 1, (), generator=generator))
        return collate_tts(self.items[start : start + self.batch_size])


class TTSDataModule(L.LightningDataModule):
    """An LJSpeech-layout folder as (tokens, log-mel) batches for a Tacotron 2.

    Everything is loaded and analysed at construction, so a bad folder fails before Lightning
    starts. Validation: the ids of ``split.json``'s ``val`` split when it has any, otherwise
    the last ``val_fraction`` of the utterances in file order.

    Args:
        root: folder with ``metadata.csv`` and ``wavs/``.
        audio_config: the model's mel analysis (its sample rate is used to load audio).
        text_processor: text → token ids.
        val_fraction: share held out for validation when ``split.json`` has no val ids.
        max_val_utterances: cap on validation utterances.
        max_utterances: cap on training utterances (None: all).
        max_frames: utterances with more mel frames are skipped (memory bound).
        drop_heldout: skip held-out test sentences (see the module docstring).
        batch_size: utterances per batch.
        num_workers: DataLoader workers for the training stream.
        seed: seed of the batch stream.
    """

    def __init__(
        self, root: str | Path, *, audio_config: AudioConfig, text_processor: TextProcessor,
        val_fraction: float = 0.05, max_val_utterances: int | None = 32,
        max_utterances: int | None = None, max_frames: int = 1000, drop_heldout: bool = True,
        batch_size: int = 16, num_workers: int = 0, seed: int = 0,
    ) -> None:  # fmt: skip
        super().__init__()
        from synesthesia.data.sentences import is_heldout_sentence
        from synesthesia.data.speech import load_waveform, read_ljspeech_metadata
        from synesthesia.transforms import LogMelSpectrogram
        from synesthesia.utils import read_json

        self.batch_size = check_data_int("batch_size", batch_size, 1)
        self.num_workers = check_data_int("num_workers", num_workers, 0)
        check_data_int("max_utterances", max_utterances, 1, optional=True)
        check_data_int("max_val_utterances", max_val_utterances, 1, optional=True)
        check_data_int("max_frames", max_frames, 2)
        if isinstance(val_fraction, bool) or not 0 < val_fraction < 1:
            raise ParameterError(f"data.val_fraction={val_fraction!r} must be in (0, 1)")
        self.root = Path(root)
        if not self.root.is_dir():
            raise ParameterError(f"data.root={str(self.root)!r} is not a folder")
        metadata = self.root / "metadata.csv"
        if not metadata.is_file():
            raise ParameterError(
                f"data.root={str(self.root)!r} has no metadata.csv (LJSpeech layout: "
                "metadata.csv with id|text|normalized text, and wavs/<id>.wav)"
            )
        rows = read_ljspeech_metadata(metadata)
        if drop_heldout:
            rows = [row for row in rows if not is_heldout_sentence(row[1])]
        val_ids: set[str] = set()
        split_path = self.root / "split.json"
        if split_path.is_file():
            val_ids = set(read_json(split_path).get("val", {}).get("ids", []))
        if val_ids & {row[0] for row in rows}:
            train_rows = [row for row in rows if row[0] not in val_ids]
            val_rows = [row for row in rows if row[0] in val_ids]
        else:
            num_val = max(1, int(round(len(rows) * val_fraction)))
            train_rows, val_rows = rows[:-num_val], rows[-num_val:]
        if max_utterances is not None:
            train_rows = train_rows[:max_utterances]
        if max_val_utterances is not None:
            val_rows = val_rows[:max_val_utterances]
        self.audio_config = audio_config
        self.text_processor = text_processor
        self.seed = seed
        analysis = LogMelSpectrogram.from_config(audio_config)

        def load(selected: list[tuple[str, str, str]]) -> list[tuple[Tensor, Tensor]]:
            items = []
            for utterance_id, text, normalized in selected:
                waveform, _ = load_waveform(
                    self.root / "wavs" / f"{utterance_id}.wav",
                    sample_rate=audio_config.sample_rate,
                )
                if waveform.numel() <= audio_config.n_fft // 2:
                    continue  # too short for one reflection-padded frame
                with torch.no_grad():
                    mel = analysis(waveform)
                if mel.shape[-1] > max_frames:
                    continue
                items.append((text_processor(normalized or text), mel))
            return items

        self.train_items = load(train_rows)
        self.val_items = load(val_rows)
        if not self.train_items or not self.val_items:
            raise ParameterError(
                f"data.root={str(self.root)!r} gave {len(self.train_items)} training and "
                f"{len(self.val_items)} validation utterances (after dropping held-out "
                f"sentences and clips longer than max_frames={max_frames}); both must be "
                "non-empty"
            )

    @property
    def train_seconds(self) -> float:
        """Seconds of training speech."""
        frames = sum(mel.shape[-1] for _, mel in self.train_items)
        return frames * self.audio_config.hop_length / self.audio_config.sample_rate

    def train_dataloader(self) -> DataLoader:
        sampler = BucketSampler(self.train_items, batch_size=self.batch_size)
        return stream_loader(
            sampler, seed=self.seed, trainer=self.trainer, num_workers=self.num_workers
        )

    def val_batches(self) -> list[dict[str, Tensor]]:
        """The validation utterances in length order, batched."""
        ordered = sorted(self.val_items, key=lambda item: item[1].shape[-1])
        size = self.batch_size
        return [collate_tts(ordered[i : i + size]) for i in range(0, len(ordered), size)]

    def val_dataloader(self) -> DataLoader:
        return fixed_loader(self.val_batches())

    def export(self, directory: str | Path) -> Path:
        """Write ``text_processor.json`` beside the exported model.

        A corpus written by ``synesthesia data espeak`` also leaves a copy of its
        ``corpus.json`` (voices, rates, pitches, sample rate) there: the record of which
        eSpeak NG voice the model imitates, which held-out comparisons read
        (:func:`synesthesia.data.espeak_corpus.reference_voice`).
        """
        from synesthesia.utils import read_json

        corpus = self.root / CORPUS_SETTINGS_NAME
        return write_acoustic_extras(
            directory,
            text_processor=self.text_processor,
            corpus_settings=read_json(corpus) if corpus.is_file() else None,
        )


class TTSSystem(ModelSystem):
    """Tacotron 2 loss (masked mel before/after post-net, stop BCE, guided attention).

    Validation also logs ``val/diagonality`` (:func:`synesthesia.metrics.diagonality` of the
    teacher-forced alignments) and draws the first validation utterance's alignment.
    """

    def __init__(
        self, *, model_name: str, model_kwargs: dict[str, Any] | None = None,
        optim: dict[str, Any] | None = None, loss: dict[str, Any] | None = None,
        figure_dir: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(model_name=model_name, model_kwargs=model_kwargs, optim=optim)
        self.loss_settings = {**TTS_DEFAULTS["loss"], **(loss or {})}
        self.figure_dir = figure_dir
        self._first_alignment: tuple[Tensor, int, int] | None = None

    def build_model(self, model_name: str, model_kwargs: dict[str, Any]) -> Any:
        return create_model(model_name, **_converted(model_kwargs))

    def self_feeding(self) -> float:
        """Scheduled-sampling probability at the current step (0 outside training)."""
        s = self.loss_settings
        if not self.training or s["self_feeding_max"] <= 0:
            return 0.0
        start, end = (
            s["self_feeding_start"],
            max(s["self_feeding_end"], s["self_feeding_start"] + 1),
        )
        ramp = min(max((self.global_step - start) / (end - start), 0.0), 1.0)
        return float(s["self_feeding_max"]) * ramp

    def _terms(self, batch: dict[str, Tensor]) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        outputs = self.model(
            batch["tokens"], batch["token_lengths"], batch["mel"], batch["mel_lengths"],
            self_feeding=self.self_feeding(),
        )  # fmt: skip
        s = self.loss_settings
        terms = self.model.loss(
            outputs, batch["mel"], batch["mel_lengths"], token_lengths=batch["token_lengths"],
            mel_loss=s["mel_loss"], guided_attention_weight=float(s["guided_attention_weight"]),
            guided_sigma=float(s["guided_sigma"]),
        )  # fmt: skip
        return outputs, terms

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        _, terms = self._terms(batch)
        metrics = {k: terms[k].detach() for k in ("mel", "stop", "guided")}
        metrics["self_feeding"] = torch.tensor(self.self_feeding())
        return terms["loss"], metrics

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> Tensor:
        from synesthesia.metrics import diagonality

        outputs, terms = self._terms(batch)
        size = self.batch_size_of(batch)
        self.log("val/loss", terms["loss"], prog_bar=True, batch_size=size, sync_dist=True)
        for name in ("mel", "stop", "guided"):
            self.log(f"val/{name}", terms[name], batch_size=size, sync_dist=True)
        scores = diagonality(
            outputs["alignments"], batch["token_lengths"], batch["mel_lengths"],
            reduction_factor=self.model.reduction_factor,
        )  # fmt: skip
        self.log("val/diagonality", scores.mean(), batch_size=size, sync_dist=True)
        if batch_idx == 0:
            steps = math.ceil(int(batch["mel_lengths"][0]) / self.model.reduction_factor)
            self._first_alignment = (
                outputs["alignments"][0].detach().cpu(),
                steps,
                int(batch["token_lengths"][0]),
            )
        return terms["loss"]

    def on_validation_epoch_end(self) -> None:
        if self._first_alignment is None or not self.trainer.is_global_zero:
            return
        from synesthesia.viz.attention import plot_alignment

        alignment, steps, tokens = self._first_alignment
        self._first_alignment = None
        title = f"step {self.global_step}"
        figure = plot_alignment(alignment[:steps, :tokens], title=title,
                                reduction_factor=self.model.reduction_factor)  # fmt: skip
        try:
            for logger in self.loggers:
                experiment = getattr(logger, "experiment", None)
                if hasattr(experiment, "add_figure"):
                    experiment.add_figure("val/alignment", figure, self.global_step, close=False)
            if self.figure_dir is not None:
                from synesthesia.utils import atomic_path

                path = Path(self.figure_dir) / f"step={self.global_step:06d}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                with atomic_path(path) as tmp:
                    figure.savefig(tmp, format="png", dpi=80)
        finally:
            import matplotlib.pyplot as plt

            plt.close(figure)

    def batch_size_of(self, batch: dict[str, Tensor]) -> int:
        return int(batch["tokens"].shape[0])


def _converted(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``model.kwargs`` with an ``audio_config`` mapping turned into an AudioConfig."""
    kwargs = dict(kwargs)
    audio = kwargs.get("audio_config")
    if isinstance(audio, dict):
        kwargs["audio_config"] = AudioConfig.from_dict(audio)
    elif audio is not None and not isinstance(audio, AudioConfig):
        raise ParameterError(f"model.kwargs.audio_config={audio!r} must be a mapping of fields")
    return kwargs


def _check_loss(loss: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(loss) - set(TTS_DEFAULTS["loss"]))
    if unknown:
        raise ParameterError(f"unknown config key 'loss.{unknown[0]}'; known: "
                             f"{sorted(TTS_DEFAULTS['loss'])}")  # fmt: skip
    loss = {**TTS_DEFAULTS["loss"], **loss}
    if loss["mel_loss"] not in ("l1", "l2"):
        raise ParameterError(f"config loss.mel_loss={loss['mel_loss']!r} must be 'l1' or 'l2'")
    for name in ("guided_attention_weight", "guided_sigma", "self_feeding_max"):
        value = loss[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ParameterError(f"config loss.{name}={value!r} must be a number >= 0")
    if loss["self_feeding_max"] > 1:
        raise ParameterError(f"config loss.self_feeding_max={loss['self_feeding_max']!r} must "
                             "be <= 1")  # fmt: skip
    for name in ("self_feeding_start", "self_feeding_end"):
        value = loss[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ParameterError(f"config loss.{name}={value!r} must be an integer >= 0")
    if loss["guided_sigma"] == 0:
        raise ParameterError("config loss.guided_sigma=0 must be > 0")
    return loss


def _system_kwargs(config: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """The checked loss settings and where validation draws its alignment figures."""
    return {
        "loss": _check_loss(dict(config.get("loss", {}))),
        "figure_dir": str(Path(config["out_dir"]) / "alignments"),
    }


def _data_module(config: dict[str, Any], data: dict[str, Any]) -> TTSDataModule:
    """The speech folder with the AudioConfig of the model preset and its text processor."""
    if data["root"] is None:
        raise ParameterError("data.root=None: give the speech folder (--data DIR)")
    processor = TextProcessor(data.pop("text_mode"), voice=data.pop("voice"))
    name = config["model"]["name"]
    if not name:
        raise ParameterError("model.name=None must name a registered acoustic model, e.g. "
                             "tacotron2_tiny")  # fmt: skip
    kwargs = dict(config["model"]["kwargs"])
    try:  # the preset as configured, to check what it is before adding the symbol count
        probe = create_model(name, **_converted(kwargs))
    except TypeError as exc:
        raise ParameterError(f"model.name={name!r} does not build with {kwargs}: {exc}") from None
    audio_config = getattr(probe, "audio_config", None)
    if probe.architecture != "tacotron2" or not isinstance(audio_config, AudioConfig):
        raise ParameterError(f"model.name={name!r} is a {probe.architecture!r} model, not an "
                             "acoustic model (tacotron2)")  # fmt: skip
    num_symbols = kwargs.get("num_symbols", len(processor.symbol_table))
    if num_symbols != len(processor.symbol_table):
        raise ParameterError(
            f"model.kwargs.num_symbols={num_symbols} differs from the "
            f"{len(processor.symbol_table)} symbols of text mode {processor.mode!r}"
        )
    del probe
    return TTSDataModule(
        data.pop("root"), audio_config=audio_config, text_processor=processor,
        seed=config["seed"], **data,
    )  # fmt: skip


def _model_kwargs(
    config: dict[str, Any], data: dict[str, Any], datamodule: TTSDataModule
) -> dict[str, Any]:
    """``num_symbols`` from the text processor's symbol table."""
    kwargs = dict(config["model"]["kwargs"])
    kwargs.setdefault("num_symbols", len(datamodule.text_processor.symbol_table))
    return kwargs


def _announce(system: TTSSystem, datamodule: TTSDataModule, config: dict[str, Any]) -> None:
    processor = datamodule.text_processor
    log.info(
        "training %s (%d parameters, %s input, %d symbols) on %d utterances (%.1f min), "
        "validating on %d",
        config["model"]["name"], system.model.num_parameters, processor.mode,
        len(processor.symbol_table), len(datamodule.train_items),
        datamodule.train_seconds / 60, len(datamodule.val_items),
    )  # fmt: skip


def _check_init(folder: Path, datamodule: TTSDataModule) -> None:
    """A fine-tuned voice reads text as its starting point did: same mode, voice, symbols."""
    from synesthesia.text import TextProcessor

    path = folder / TEXT_PROCESSOR_NAME
    if not path.is_file():
        raise ParameterError(f"model.init_from={str(folder)!r} has no {TEXT_PROCESSOR_NAME}")
    theirs, ours = TextProcessor.load(path), datamodule.text_processor
    same = (theirs.mode, theirs.voice) == (ours.mode, ours.voice)
    if not same or theirs.symbol_table != ours.symbol_table:
        raise ParameterError(
            f"model.init_from={str(folder)!r} reads text as mode={theirs.mode!r} "
            f"voice={theirs.voice!r} ({len(theirs.symbol_table)} symbols); the config as "
            f"mode={ours.mode!r} voice={ours.voice!r} ({len(ours.symbol_table)} symbols)"
        )


#: the text-to-speech task (``synesthesia tts train``; pipeline: :class:`TextToSpeech`)
TTS_TASK = Task(
    name="tts",
    defaults=TTS_DEFAULTS,
    data_module=_data_module,
    model_kwargs=_model_kwargs,
    system=TTSSystem,
    pipeline=TextToSpeech,
    system_kwargs=_system_kwargs,
    endless=("text-to-speech trains on an endless stream of batches", ""),
    announce=_announce,
    check_init=_check_init,
)


def train_tts(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> FitResult:
    """Train a Tacotron 2 as ``config`` (see :data:`TTS_DEFAULTS`) says; export it
    (:data:`TTS_TASK` through :func:`~synesthesia.training.task.train`)."""
    return train(TTS_TASK, config, callbacks=callbacks)
