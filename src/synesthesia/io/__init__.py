"""synesthesia.io."""

from synesthesia.io.audio import load_audio, resample, save_audio

__all__ = ["load_audio", "resample", "save_audio"]
