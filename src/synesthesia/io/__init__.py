"""synesthesia.io."""

from synesthesia.io.audio import load_audio, resample, save_audio

__all__ = ["load_audio", "resample", "save_audio"]

from synesthesia.io.image import load_image  # noqa: E402

__all__ += ["load_image"]
