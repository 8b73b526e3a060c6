"""Seeded augmentation modules and their composition (the config builder: ``augment_builder``).

Every module takes a padded batch and its lengths and returns both:
``forward(x, lengths=None, *, generator=None) -> (x, lengths)``; ``lengths`` stays None when
it came in None. Waveform modules (``domain = "waveform"``) take (B, T); spectrogram modules
(``domain = "spectrogram"``) take (B, M, N) log-mels with frame lengths. Settings written as a
pair ``(low, high)`` are drawn uniformly per item; a single number is used as is.

Randomness comes only from a ``torch.Generator``: the module's own (seeded at construction
with ``seed``; ``reseed`` to restart it) or one passed to ``forward``. The same seed and the
same calls give the same output. Modules copied into several DataLoader workers share their
seed: reseed them in ``worker_init_fn`` or, better, augment the collated batch in the
training step (everything here is batched and runs on the batch's device).

References:
    audiomentations (Compose / p per transform); torchaudio.transforms (AddNoise,
    SpeedPerturbation, TimeMasking, FrequencyMasking); Park et al. 2019 (SpecAugment);
    Ko et al. 2015 / 2017 (speed, noise and reverberation for ASR); Jaitly & Hinton 2013.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from synesthesia import functional as AF
from synesthesia.errors import ParameterError
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.functional.augment import babble_noise, pink_noise, white_noise
from synesthesia.functional.telephone import CODECS
from synesthesia.functional.vtlp import vtlp_waveform

__all__ = [
    "Augmentation",
    "AddNoise",
    "Reverberate",
    "TelephoneChannel",
    "SpeedPerturb",
    "PitchShift",
    "VTLP",
    "TimeMasking",
    "FrequencyMasking",
    "TimeWarping",
    "RandomApply",
    "Compose",
    "NOISE_KINDS",
]

#: noise kinds of :class:`AddNoise`
NOISE_KINDS = ("white", "pink", "babble")

Range = tuple[float, float]


def _range(name: str, value: float | Range | list, *, positive: bool = False) -> Range:
    """``value`` as (low, high): a number gives (v, v); ParameterError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        low = high = float(value)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = value
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise ParameterError(f"{name}={value!r} must be a number or [low, high] numbers")
        low, high = float(low), float(high)
    else:
        raise ParameterError(f"{name}={value!r} must be a number or a pair [low, high]")
    if not (math.isfinite(low) and math.isfinite(high)) or low > high:
        raise ParameterError(f"{name}={value!r} must be finite with low <= high")
    if positive and low <= 0:
        raise ParameterError(f"{name}={value!r} must be > 0")
    return low, high


def _mask_value(value: float | str) -> float | str:
    if value == "mean" or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return value
    raise ParameterError(f"mask_value={value!r} must be a number or 'mean'")


def _choices(name: str, value: str | list | tuple, allowed: tuple[str, ...]) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or any(item not in allowed for item in items):
        raise ParameterError(f"{name}={value!r} must be one or more of {allowed}")
    return items


def _uniform(bounds: Range, batch: int, generator: torch.Generator) -> torch.Tensor:
    """(B,) float64 draws in [low, high] (always consumes B numbers, so streams line up)."""
    draws = torch.rand(batch, generator=generator, dtype=torch.float64)
    return bounds[0] + (bounds[1] - bounds[0]) * draws


def _pick(options: tuple, batch: int, generator: torch.Generator) -> list:
    index = torch.randint(len(options), (batch,), generator=generator)
    return [options[i] for i in index.tolist()]


def _item_lengths(x: torch.Tensor, lengths: torch.Tensor | None) -> list[int]:
    if lengths is None:
        return [x.shape[-1]] * x.shape[0]
    if not isinstance(lengths, torch.Tensor) or lengths.shape != (x.shape[0],):
        raise ParameterError(f"lengths must be a (B,) tensor for B={x.shape[0]}, got {lengths!r}")
    return [int(n) for n in lengths.tolist()]


def _stack(items: list[torch.Tensor], like: torch.Tensor) -> torch.Tensor:
    """Zero-pad (T_b,) items to the longest and stack: (B, T')."""
    longest = max((item.shape[-1] for item in items), default=0)
    out = like.new_zeros(len(items), longest)
    for b, item in enumerate(items):
        out[b, : item.shape[-1]] = item
    return out


class Augmentation(nn.Module):
    """Base class: a generator seeded from ``seed`` (or from torch's global RNG if None)."""

    domain = "waveform"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__()
        self.generator = torch.Generator()
        self.reseed(seed)

    def reseed(self, seed: int | None = None) -> None:
        """Restart the module's generator (None: a seed drawn from torch's global RNG)."""
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)).item())
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ParameterError(f"seed={seed!r} must be an integer or None")
        self.seed = seed
        self.generator.manual_seed(seed)

    def _generator(self, generator: torch.Generator | None) -> torch.Generator:
        if generator is not None and not isinstance(generator, torch.Generator):
            raise ParameterError(f"generator={generator!r} must be a torch.Generator or None")
        return self.generator if generator is None else generator

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        want = 2 if self.domain == "waveform" else 3
        if not isinstance(x, torch.Tensor) or x.dim() != want or not x.is_floating_point():
            shape = "(B, T)" if want == 2 else "(B, M, N)"
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ParameterError(f"{type(self).__name__} expects a float {shape} batch, got {got}")
        return x

    def apply(
        self, x: torch.Tensor, lengths: torch.Tensor | None, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        raise NotImplementedError

    def forward(
        self,
        x: torch.Tensor,
        lengths: torch.Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.apply(self._check_input(x), lengths, self._generator(generator))


class AddNoise(Augmentation):
    """Add white, pink or babble noise at a per-item SNR (``functional.add_noise``).

    Babble is built from ``noise_bank`` (K, T_bank) when given, else from the other
    utterances of the batch (each item never hears itself).
    """

    def __init__(
        self,
        *,
        snr_db: float | Range = (5.0, 30.0),
        kind: str | tuple[str, ...] = ("white", "pink"),
        num_talkers: int = 4,
        noise_bank: torch.Tensor | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.snr_db = _range("snr_db", snr_db)
        self.kind = _choices("kind", kind, NOISE_KINDS)
        self.num_talkers = num_talkers
        self.noise_bank = noise_bank

    def apply(self, x, lengths, generator):
        batch, length = x.shape
        snr = _uniform(self.snr_db, batch, generator)
        kinds = _pick(self.kind, batch, generator)
        noise = x.new_zeros(batch, length)
        for kind in set(kinds):
            rows = torch.tensor([k == kind for k in kinds], device=x.device)
            if kind == "white":
                made = white_noise((batch, length), generator=generator, dtype=x.dtype)
            elif kind == "pink":
                made = pink_noise((batch, length), generator=generator, dtype=x.dtype)
            elif self.noise_bank is not None:
                bank = self.noise_bank.to(dtype=x.dtype, device=x.device)
                made = babble_noise(
                    bank,
                    num_samples=length,
                    batch_size=batch,
                    num_talkers=self.num_talkers,
                    generator=generator,
                )
            else:
                made = babble_noise(
                    x,
                    num_samples=length,
                    batch_size=batch,
                    num_talkers=self.num_talkers,
                    bank_lengths=None if lengths is None else lengths.clamp(min=1),
                    exclude=torch.arange(batch),
                    generator=generator,
                )
            noise = torch.where(rows[:, None], made.to(x.device), noise)
        out = AF.add_noise(x, noise, snr_db=snr.to(x.dtype), waveform_lengths=lengths)
        return out, lengths

    def extra_repr(self) -> str:
        return f"snr_db={self.snr_db}, kind={self.kind}, num_talkers={self.num_talkers}"


class Reverberate(Augmentation):
    """Convolve with a fresh synthetic RIR per item (``functional.synthetic_rir``).

    The dry signal keeps its level (unit direct path); the tail adds
    ``-direct_to_reverberant_db`` dB of energy relative to it.
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        rt60: float | Range = (0.2, 0.8),
        direct_to_reverberant_db: float | Range = (0.0, 10.0),
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.sample_rate = sample_rate
        self.rt60 = _range("rt60", rt60, positive=True)
        self.direct_to_reverberant_db = _range("direct_to_reverberant_db", direct_to_reverberant_db)

    def apply(self, x, lengths, generator):
        batch = x.shape[0]
        rt60 = _uniform(self.rt60, batch, generator)
        drr = _uniform(self.direct_to_reverberant_db, batch, generator)
        rir = AF.synthetic_rir(
            sample_rate=self.sample_rate,
            rt60=rt60,
            direct_to_reverberant_db=drr,
            generator=generator,
            dtype=x.dtype,
            device=x.device,
        )
        return AF.reverberate(x, rir, waveform_lengths=lengths), lengths

    def extra_repr(self) -> str:
        return (
            f"sample_rate={self.sample_rate}, rt60={self.rt60}, "
            f"direct_to_reverberant_db={self.direct_to_reverberant_db}"
        )


class TelephoneChannel(Augmentation):
    """Narrow-band telephone channel with a codec drawn per item from ``codec``."""

    def __init__(
        self,
        *,
        sample_rate: int,
        codec: str | tuple[str, ...] = ("mulaw", "alaw"),
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.sample_rate = sample_rate
        self.codec = _choices("codec", codec, CODECS)

    def apply(self, x, lengths, generator):
        codecs = _pick(self.codec, x.shape[0], generator)
        out = x.clone()
        for codec in set(codecs):
            rows = torch.tensor([c == codec for c in codecs], device=x.device)
            out[rows] = AF.telephone_channel(x[rows], sample_rate=self.sample_rate, codec=codec)
        if lengths is not None:
            out = out * lengths_to_mask(lengths, max_length=x.shape[-1], device=x.device)
        return out, lengths

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}, codec={self.codec}"


class SpeedPerturb(Augmentation):
    """Speed perturbation per item (``functional.speed_perturb``): lengths change.

    ``factor`` is a range drawn uniformly (rounded to 1/100), or give ``choices`` (e.g.
    Kaldi's ``[0.9, 1.0, 1.1]``) to draw among fixed factors.
    """

    def __init__(
        self,
        *,
        factor: float | Range = (0.9, 1.1),
        choices: tuple[float, ...] | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.factor = _range("factor", factor, positive=True)
        if choices is not None:
            choices = tuple(_range("choices", c, positive=True)[0] for c in choices)
            if not choices:
                raise ParameterError("choices=() must hold at least one factor")
        self.choices = choices

    def apply(self, x, lengths, generator):
        batch = x.shape[0]
        if self.choices is None:
            factors = (_uniform(self.factor, batch, generator) * 100).round() / 100
            factors = factors.tolist()
        else:
            factors = _pick(self.choices, batch, generator)
        items = [
            AF.speed_perturb(x[b, :n], factor=f)
            for b, (n, f) in enumerate(zip(_item_lengths(x, lengths), factors))
        ]
        out = _stack(items, x)
        device = x.device if lengths is None else lengths.device
        new_lengths = torch.tensor([item.shape[-1] for item in items], device=device)
        return out, None if lengths is None and len(set(factors)) == 1 else new_lengths

    def extra_repr(self) -> str:
        return f"factor={self.factor}, choices={self.choices}"


class PitchShift(Augmentation):
    """Pitch shift per item by a number of semitones drawn from ``semitones``."""

    def __init__(
        self,
        *,
        sample_rate: int,
        semitones: float | Range = (-3.0, 3.0),
        n_fft: int = 512,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.sample_rate = sample_rate
        self.semitones = _range("semitones", semitones)
        self.n_fft = n_fft

    def apply(self, x, lengths, generator):
        shifts = _uniform(self.semitones, x.shape[0], generator).tolist()
        out = torch.zeros_like(x)
        for b, (n, shift) in enumerate(zip(_item_lengths(x, lengths), shifts)):
            if n > self.n_fft // 2:  # shorter items cannot be analysed; left as they are
                out[b, :n] = AF.pitch_shift(
                    x[b, :n], sample_rate=self.sample_rate, semitones=shift, n_fft=self.n_fft
                )
            else:
                out[b, :n] = x[b, :n]
        return out, lengths

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}, semitones={self.semitones}, n_fft={self.n_fft}"


class VTLP(Augmentation):
    """Vocal tract length perturbation of waveforms (``functional.vtlp_waveform``)."""

    def __init__(
        self,
        *,
        sample_rate: int,
        warp_factor: float | Range = (0.9, 1.1),
        boundary_frequency: float = 4800.0,
        n_fft: int = 512,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        self.sample_rate = sample_rate
        self.warp_factor = _range("warp_factor", warp_factor, positive=True)
        self.boundary_frequency = boundary_frequency
        self.n_fft = n_fft

    def apply(self, x, lengths, generator):
        alpha = _uniform(self.warp_factor, x.shape[0], generator).to(x.dtype)
        out = vtlp_waveform(
            x,
            warp_factor=alpha,
            sample_rate=self.sample_rate,
            boundary_frequency=self.boundary_frequency,
            n_fft=self.n_fft,
        )
        if lengths is not None:
            out = out * lengths_to_mask(lengths, max_length=x.shape[-1], device=x.device)
        return out, lengths

    def extra_repr(self) -> str:
        return f"sample_rate={self.sample_rate}, warp_factor={self.warp_factor}"


class TimeMasking(Augmentation):
    """SpecAugment time masks on (B, M, N) with frame lengths (``functional.time_mask``).

    ``mask_value="mean"`` (default) fills with each item's mean log-mel, which is what the
    paper's 0 is for mean-normalised features; pass 0.0 for normalised inputs.
    """

    domain = "spectrogram"

    def __init__(
        self,
        *,
        max_width: int = 40,
        num_masks: int = 2,
        max_proportion: float = 1.0,
        mask_value: float | str = "mean",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        AF.specaugment._check_mask_args(max_width, num_masks, max_proportion)
        self.max_width, self.num_masks = max_width, num_masks
        self.max_proportion, self.mask_value = max_proportion, _mask_value(mask_value)

    def apply(self, x, lengths, generator):
        out = AF.time_mask(
            x,
            max_width=self.max_width,
            num_masks=self.num_masks,
            max_proportion=self.max_proportion,
            lengths=lengths,
            mask_value=self.mask_value,
            generator=generator,
        )
        return out, lengths

    def extra_repr(self) -> str:
        return (
            f"max_width={self.max_width}, num_masks={self.num_masks}, "
            f"max_proportion={self.max_proportion}, mask_value={self.mask_value}"
        )


class FrequencyMasking(Augmentation):
    """SpecAugment frequency masks on (B, M, N) (``functional.freq_mask``); padding kept."""

    domain = "spectrogram"

    def __init__(
        self,
        *,
        max_width: int = 15,
        num_masks: int = 2,
        mask_value: float | str = "mean",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        AF.specaugment._check_mask_args(max_width, num_masks, 1.0)
        self.max_width, self.num_masks = max_width, num_masks
        self.mask_value = _mask_value(mask_value)

    def apply(self, x, lengths, generator):
        out = AF.freq_mask(
            x,
            max_width=self.max_width,
            num_masks=self.num_masks,
            mask_value=self.mask_value,
            lengths=lengths,
            generator=generator,
        )
        return out, lengths

    def extra_repr(self) -> str:
        return (
            f"max_width={self.max_width}, num_masks={self.num_masks}, "
            f"mask_value={self.mask_value!r}"
        )


class TimeWarping(Augmentation):
    """SpecAugment time warping of (B, M, N) with frame lengths (``functional.time_warp``)."""

    domain = "spectrogram"

    def __init__(self, *, max_warp: int = 5, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        if isinstance(max_warp, bool) or not isinstance(max_warp, int) or max_warp < 0:
            raise ParameterError(f"max_warp={max_warp!r} must be an integer >= 0")
        self.max_warp = max_warp

    def apply(self, x, lengths, generator):
        return AF.time_warp(
            x, max_warp=self.max_warp, lengths=lengths, generator=generator
        ), lengths

    def extra_repr(self) -> str:
        return f"max_warp={self.max_warp}"


class RandomApply(Augmentation):
    """Apply ``module`` to each item with probability ``p`` (drawn per item).

    Only the chosen items are passed to ``module`` (with their lengths); the others are
    returned unchanged. If ``module`` changes lengths (speed), the batch is re-padded.
    """

    def __init__(self, module: Augmentation, *, p: float = 0.5, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        if not isinstance(module, Augmentation):
            raise ParameterError(f"module={module!r} must be an Augmentation")
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise ParameterError(f"p={p!r} must be a probability in [0, 1]")
        self.module, self.p = module, float(p)
        self.domain = module.domain

    def apply(self, x, lengths, generator):
        chosen = torch.rand(x.shape[0], generator=generator) < self.p
        if not bool(chosen.any()):
            return x, lengths
        index = chosen.nonzero().flatten().to(x.device)
        sub_lengths = None if lengths is None else lengths[index.to(lengths.device)]
        if sub_lengths is None and not bool(chosen.all()):
            sub_lengths = torch.full((len(index),), x.shape[-1], device=x.device)
        done, done_lengths = self.module(x[index], sub_lengths, generator=generator)
        if done.shape[-1] != x.shape[-1]:
            width = max(done.shape[-1], x.shape[-1])
            x = nn.functional.pad(x, (0, width - x.shape[-1]))
            done = nn.functional.pad(done, (0, width - done.shape[-1]))
        out = x.clone()
        out[index] = done
        if done_lengths is None:
            return out, lengths
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[-1], device=x.device)
        new_lengths = lengths.clone().to(done_lengths.device)
        new_lengths[index.to(done_lengths.device)] = done_lengths.to(new_lengths.dtype)
        if out.shape[-1] > int(new_lengths.max()):
            out = out[..., : int(new_lengths.max())]
        return out, new_lengths

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Compose(Augmentation):
    """Apply augmentations in order; all must share one domain to be called.

    ``.waveform`` and ``.spectrogram`` give the sub-pipelines of each domain (same modules,
    same order), so one config list can hold both kinds.
    """

    def __init__(self, modules: list[Augmentation], *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        for module in modules:
            if not isinstance(module, Augmentation):
                raise ParameterError(f"{module!r} in modules must be an Augmentation")
        self.transforms = nn.ModuleList(modules)
        domains = {m.domain for m in modules}
        self.domain = domains.pop() if len(domains) == 1 else "mixed"

    def _part(self, domain: str) -> Compose:
        part = Compose([m for m in self.transforms if m.domain == domain], seed=self.seed)
        part.domain = domain
        return part

    @property
    def waveform(self) -> Compose:
        """The waveform-domain modules, as a Compose of (B, T)."""
        return self._part("waveform")

    @property
    def spectrogram(self) -> Compose:
        """The spectrogram-domain modules, as a Compose of (B, M, N)."""
        return self._part("spectrogram")

    def forward(self, x, lengths=None, *, generator=None):
        if self.domain == "mixed":
            raise ParameterError(
                "Compose mixes waveform and spectrogram augmentations; call "
                ".waveform(...) and .spectrogram(...) separately"
            )
        if not len(self.transforms):
            return x, lengths
        return super().forward(x, lengths, generator=generator)

    def apply(self, x, lengths, generator):
        for module in self.transforms:
            shared = None if generator is self.generator else generator
            x, lengths = module(x, lengths, generator=shared)
        return x, lengths
