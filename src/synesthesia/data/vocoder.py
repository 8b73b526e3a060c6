"""(waveform segment, log-mel) pairs for training vocoders, with hop-aligned random crops.

For each utterance the log-mel-spectrogram of the *whole* waveform is computed with
``LogMelSpectrogram.from_config(audio_config)`` (``center=True``, frame ``n`` centred on sample
``n * hop_length``), then a crop starting at a multiple of ``hop_length`` is taken from both:
``T = segment_length`` samples and the ``N = 1 + T // hop_length`` frames centred inside it.
Computing the mel over the whole utterance first means a crop's edge frames see the true
neighbouring audio rather than reflection padding, so training frames look exactly like the
frames a text-to-speech model will hand the vocoder.

Shorter utterances (and every utterance when ``segment_length=None``) are used whole,
trimmed to a multiple of ``hop_length``; :func:`collate_vocoder` pads a batch and returns
``waveform_lengths`` and ``mel_lengths``.

References:
    Crop-and-condition training as in WaveNet vocoders (Shen et al., "Natural TTS synthesis
    by conditioning WaveNet on mel spectrogram predictions", ICASSP 2018) and HiFi-GAN's
    MelDataset (Kong et al., 2020).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError

__all__ = ["VocoderDataset", "collate_vocoder"]


class VocoderDataset(Dataset):
    """Random hop-aligned (waveform, log-mel) crops of a collection of utterances.

    Args:
        items: a data set or sequence whose entries are dicts with ``"waveform"`` (T,) and
            ``"sample_rate"`` (e.g. :class:`~synesthesia.data.LJSpeechDataset`), or plain
            (T,) tensors already at ``audio_config.sample_rate``.
        audio_config: the mel analysis shared with the vocoder.
        segment_length: samples per crop, a positive multiple of ``hop_length``; None uses
            every utterance whole (for validation).

    Items:
        ``(waveform (T,), mel (M, N))`` float32 with ``T`` a multiple of ``hop_length`` and
        ``N = 1 + T // hop_length``. Crops use torch's global random generator (DataLoader
        workers are seeded by torch), so seed with ``torch.manual_seed`` for repeatable crops.
    """

    def __init__(
        self,
        items: Sequence[Any],
        *,
        audio_config: AudioConfig,
        segment_length: int | None = 8192,
    ) -> None:
        from synesthesia.transforms import LogMelSpectrogram

        if not isinstance(audio_config, AudioConfig):
            raise ParameterError(f"audio_config={audio_config!r} must be an AudioConfig")
        if not audio_config.center:
            raise ParameterError("audio_config.center=False is not supported (frames must be "
                                 "centred on multiples of hop_length)")  # fmt: skip
        hop = audio_config.hop_length
        if segment_length is not None and (
            isinstance(segment_length, bool)
            or not isinstance(segment_length, int)
            or segment_length <= 0
            or segment_length % hop
        ):
            raise ParameterError(
                f"segment_length={segment_length!r} must be a positive multiple of "
                f"hop_length={hop} (or None for whole utterances)"
            )
        if len(items) == 0:
            raise ParameterError("items is empty; give at least one utterance")
        self.items = items
        self.audio_config = audio_config
        self.segment_length = segment_length
        self.log_mel = LogMelSpectrogram.from_config(audio_config)

    def __len__(self) -> int:
        return len(self.items)

    def _waveform(self, index: int) -> torch.Tensor:
        item = self.items[index]
        if isinstance(item, dict):
            rate = item.get("sample_rate", self.audio_config.sample_rate)
            if rate != self.audio_config.sample_rate:
                raise ParameterError(
                    f"item {index} has sample_rate={rate}, but audio_config.sample_rate="
                    f"{self.audio_config.sample_rate}; load the data at that rate"
                )
            item = item["waveform"]
        if not isinstance(item, torch.Tensor) or item.ndim != 1 or not item.is_floating_point():
            raise ParameterError(f"item {index} must hold a 1-D float waveform (T,)")
        return item.to(torch.float32)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        waveform = self._waveform(index)
        hop = self.audio_config.hop_length
        usable = (waveform.numel() // hop) * hop
        if usable == 0:
            raise ParameterError(
                f"item {index} has {waveform.numel()} samples, fewer than hop_length={hop}"
            )
        if waveform.numel() < self.audio_config.n_fft // 2 + 1:
            # reflection padding needs T > n_fft // 2; zero-extend very short clips
            waveform = torch.nn.functional.pad(waveform, (0, self.audio_config.n_fft // 2 + 1))
        mel = self.log_mel(waveform)  # (M, 1 + T_full // hop)
        length = usable if self.segment_length is None else min(self.segment_length, usable)
        num_starts = (usable - length) // hop + 1
        first = int(torch.randint(num_starts, ()).item()) if num_starts > 1 else 0
        start = first * hop
        num_frames = 1 + length // hop
        return waveform[start : start + length].clone(), mel[:, first : first + num_frames].clone()


def collate_vocoder(
    batch: Sequence[tuple[torch.Tensor, torch.Tensor]], *, pad_log_mel: float = math.log(1e-5)
) -> dict[str, torch.Tensor]:
    """Pad a batch of (waveform (T,), mel (M, N)) pairs.

    Args:
        batch: items of :class:`VocoderDataset`.
        pad_log_mel: value used to pad mel frames (default ``log(1e-5)``, the log of
            AudioConfig's default ``log_floor``: silence).

    Returns:
        ``{"waveform": (B, T_max), "waveform_lengths": (B,), "mel": (B, M, N_max),
        "mel_lengths": (B,)}``; padded samples are 0.
    """
    if len(batch) == 0:
        raise ParameterError("batch is empty")
    waveform_lengths = torch.tensor([w.numel() for w, _ in batch], dtype=torch.long)
    mel_lengths = torch.tensor([m.shape[-1] for _, m in batch], dtype=torch.long)
    num_mels = {m.shape[0] for _, m in batch}
    if len(num_mels) != 1:
        raise ParameterError(f"mels have different numbers of bands {sorted(num_mels)}")
    waveform = batch[0][0].new_zeros(len(batch), int(waveform_lengths.max()))
    mel = batch[0][1].new_full((len(batch), num_mels.pop(), int(mel_lengths.max())), pad_log_mel)
    for row, (w, m) in enumerate(batch):
        waveform[row, : w.numel()] = w
        mel[row, :, : m.shape[-1]] = m
    return {
        "waveform": waveform,
        "waveform_lengths": waveform_lengths,
        "mel": mel,
        "mel_lengths": mel_lengths,
    }
