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

from synesthesia.data.sentences import (  # noqa: E402
    Sentence,
    digit_sentences,
    general_sentences,
    grid_sentences,
    make_sentences,
    transcript_words,
)
from synesthesia.io.espeak import (  # noqa: E402
    EspeakSynthesizer,
    espeak_phonemes,
    espeak_phonemes_batch,
    list_voices,
)

__all__ += ["EspeakSynthesizer", "espeak_phonemes", "espeak_phonemes_batch", "list_voices"]
__all__ += [
    "Sentence",
    "digit_sentences",
    "general_sentences",
    "grid_sentences",
    "make_sentences",
    "transcript_words",
]

from synesthesia.data.espeak_corpus import reference_voice, write_espeak_corpus  # noqa: E402
from synesthesia.data.speech import (  # noqa: E402
    AudioFolderDataset,
    LJSpeechDataset,
    collate_tts,
    read_ljspeech_metadata,
)

__all__ += ["AudioFolderDataset", "LJSpeechDataset", "collate_tts", "read_ljspeech_metadata"]
__all__ += ["reference_voice", "write_espeak_corpus"]

from synesthesia.data.vocoder import VocoderDataset, collate_vocoder  # noqa: E402

__all__ += ["VocoderDataset", "collate_vocoder"]

from synesthesia.data.captions import (  # noqa: E402
    CaptionDataset,
    CaptionRecord,
    collate_captions,
    load_coco_captions,
    load_karpathy_split,
)

__all__ += [
    "CaptionDataset",
    "CaptionRecord",
    "collate_captions",
    "load_coco_captions",
    "load_karpathy_split",
]

from synesthesia.data.digit_strips import DIGIT_WORDS, DigitStrips, make_digit_strips  # noqa: E402

__all__ += ["DIGIT_WORDS", "DigitStrips", "make_digit_strips"]

from synesthesia.data.synthetic_scenes import (  # noqa: E402
    SCENE_CLASSES,
    SyntheticScenes,
    make_synthetic_scenes,
)

__all__ += ["SCENE_CLASSES", "SyntheticScenes", "make_synthetic_scenes"]
