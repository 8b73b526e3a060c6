"""synesthesia.data."""

from synesthesia.data.audio_sets import (  # noqa: E402
    ESC50,
    AudioFolder,
    PairedAudioImageFolder,
    collate_audio,
    read_audio,
)

__all__ = ["ESC50", "AudioFolder", "PairedAudioImageFolder", "collate_audio", "read_audio"]
