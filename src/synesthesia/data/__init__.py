"""synesthesia.data."""

from synesthesia.data.audio_sets import (  # noqa: E402
    ESC50,
    AudioFolder,
    PairedAudioImageFolder,
    collate_audio,
    read_audio,
)

__all__ = ["ESC50", "AudioFolder", "PairedAudioImageFolder", "collate_audio", "read_audio"]

from synesthesia.data.spoken_digits import SpokenDigits, make_spoken_digits  # noqa: E402

__all__ += ["SpokenDigits", "make_spoken_digits"]
