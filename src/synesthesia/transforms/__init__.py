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
    Resize,
)

__all__ += ["CenterCrop", "Normalize", "RandomCrop", "Resize"]
