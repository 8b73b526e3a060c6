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
