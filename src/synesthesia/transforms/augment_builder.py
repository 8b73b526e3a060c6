"""``build_augmentation``: a :class:`~synesthesia.transforms.augment.Compose` from a config list.

References:
    audiomentations (a list of transforms, each with its probability ``p``).
"""

from __future__ import annotations

import inspect

import torch

from synesthesia.errors import ParameterError
from synesthesia.transforms.augment import (
    VTLP,
    AddNoise,
    Augmentation,
    Compose,
    FrequencyMasking,
    PitchShift,
    RandomApply,
    Reverberate,
    SpeedPerturb,
    TelephoneChannel,
    TimeMasking,
    TimeWarping,
)

__all__ = ["AUGMENTATIONS", "build_augmentation"]


#: names usable in a config's ``augment:`` list
AUGMENTATIONS: dict[str, type[Augmentation]] = {
    "noise": AddNoise,
    "reverb": Reverberate,
    "telephone": TelephoneChannel,
    "speed": SpeedPerturb,
    "pitch": PitchShift,
    "vtlp": VTLP,
    "time_mask": TimeMasking,
    "freq_mask": FrequencyMasking,
    "time_warp": TimeWarping,
}


def build_augmentation(
    spec: list[dict] | None,
    *,
    sample_rate: int,
    seed: int = 0,
    noise_bank: torch.Tensor | None = None,
) -> Compose:
    """Build a :class:`Compose` from a config list (JSON/YAML friendly).

    Each entry is ``{"name": <a key of AUGMENTATIONS>, "p": <probability, default 1>,
    **constructor arguments}``. Numeric settings are a number or ``[low, high]`` (drawn
    uniformly per item); ``kind``, ``codec`` and ``choices`` are a name or a list to draw
    from. ``sample_rate`` (and ``noise_bank`` for "noise") are filled in here. Example::

        [{"name": "noise", "p": 0.5, "snr_db": [5, 30], "kind": ["white", "pink"]},
         {"name": "reverb", "p": 0.3, "rt60": [0.2, 0.8]},
         {"name": "telephone", "p": 0.2},
         {"name": "speed", "p": 0.5, "choices": [0.9, 1.0, 1.1]},
         {"name": "time_mask", "max_width": 40, "num_masks": 2},
         {"name": "freq_mask", "max_width": 15, "num_masks": 2}]

    Waveform entries and spectrogram entries may be mixed: call ``.waveform(wave, lengths)``
    and ``.spectrogram(log_mel, frame_lengths)`` on the result.

    Args:
        spec: the list (None or [] gives an empty pipeline).
        sample_rate: rate of the waveforms, in Hz.
        seed: seeds every module (and each ``p`` draw) deterministically.
        noise_bank: (K, T_bank) clips for babble noise (default: the batch itself).

    Returns:
        :class:`Compose` of the modules, each wrapped in :class:`RandomApply` when ``p < 1``.

    Raises:
        ParameterError: unknown name or argument, bad value; the message names the entry.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ParameterError(f"seed={seed!r} must be an integer")
    if spec is None:
        spec = []
    if not isinstance(spec, (list, tuple)):
        raise ParameterError(f"spec={spec!r} must be a list of dicts")
    master = torch.Generator().manual_seed(seed)
    modules: list[Augmentation] = []
    for position, entry in enumerate(spec):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ParameterError(f"augment[{position}]={entry!r} must be a dict with a 'name'")
        kwargs = dict(entry)
        name = kwargs.pop("name")
        if name not in AUGMENTATIONS:
            raise ParameterError(
                f"augment[{position}] name={name!r} must be one of {sorted(AUGMENTATIONS)}"
            )
        cls = AUGMENTATIONS[name]
        p = kwargs.pop("p", 1.0)
        allowed = set(inspect.signature(cls.__init__).parameters) - {"self", "seed"}
        unknown = set(kwargs) - allowed
        if unknown:
            raise ParameterError(
                f"augment[{position}] ({name}) has unknown argument(s) {sorted(unknown)}; "
                f"allowed: {sorted(allowed - {'sample_rate', 'noise_bank'})}"
            )
        if "sample_rate" in allowed:
            kwargs["sample_rate"] = sample_rate
        if "noise_bank" in allowed and noise_bank is not None:
            kwargs["noise_bank"] = noise_bank
        for key in ("kind", "codec", "choices"):
            if isinstance(kwargs.get(key), list):
                kwargs[key] = tuple(kwargs[key])
        seeds = torch.randint(0, 2**62, (2,), generator=master).tolist()
        try:
            module = cls(**kwargs, seed=seeds[0])
            if p != 1:
                module = RandomApply(module, p=p, seed=seeds[1])
        except ParameterError as error:
            raise ParameterError(f"augment[{position}] ({name}): {error}") from None
        modules.append(module)
    return Compose(modules, seed=seed)
