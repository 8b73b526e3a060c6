"""synesthesia.transforms."""

from synesthesia.transforms.audio import (
    MFCC,
    AmplitudeToDB,
    GriffinLim,
    InverseMel,
    LogMelSpectrogram,
    MelSpectrogram,
    MuLawDecoding,
    MuLawEncoding,
    Spectrogram,
)

__all__ = [
    "MFCC",
    "AmplitudeToDB",
    "GriffinLim",
    "InverseMel",
    "LogMelSpectrogram",
    "MelSpectrogram",
    "MuLawDecoding",
    "MuLawEncoding",
    "Spectrogram",
]

from synesthesia.transforms.image import (  # noqa: E402
    CenterCrop,
    Normalize,
    RandomCrop,
    RandomGaussianBlur,
    Resize,
)

__all__ += ["CenterCrop", "Normalize", "RandomCrop", "RandomGaussianBlur", "Resize"]

from synesthesia.transforms.augment import (  # noqa: E402
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
from synesthesia.transforms.augment_builder import (  # noqa: E402
    AUGMENTATIONS,
    build_augmentation,
)

__all__ += [
    "AUGMENTATIONS",
    "AddNoise",
    "Augmentation",
    "Compose",
    "FrequencyMasking",
    "PitchShift",
    "RandomApply",
    "Reverberate",
    "SpeedPerturb",
    "TelephoneChannel",
    "TimeMasking",
    "TimeWarping",
    "VTLP",
    "build_augmentation",
]
