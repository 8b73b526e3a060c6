"""TextToSpeech: sentences, batches, bad text, vocoder checks (untrained tiny models: these
test the plumbing; the trained voice's quality is measured in benchmarks/tts_quality.py)."""

from __future__ import annotations

import pytest
import torch

from synesthesia.config import AudioConfig
from synesthesia.errors import CheckpointError, ConfigMismatchError, ParameterError
from synesthesia.models import create_model
from synesthesia.pipelines.tts import TEXT_PROCESSOR_NAME, TextToSpeech, load_acoustic_model
from synesthesia.text import TextProcessor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def parts():
    processor = TextProcessor("phonemes")
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny", num_symbols=len(processor.symbol_table)).eval()
    return model, processor


def _tts(parts, **kwargs) -> TextToSpeech:
    model, processor = parts
    kwargs.setdefault("max_frames_per_token", 2)  # untrained: never stops; keep it short
    kwargs.setdefault("griffin_lim_iters", 4)
    return TextToSpeech(model, processor, **kwargs)


def test_speaks_a_text_with_alignments(parts):
    tts = _tts(parts)
    speech = tts("Dr. Smith paid $3.50. Then he left!")
    assert speech.sentences == ["Dr. Smith paid $3.50.", "Then he left!"]
    assert speech.sample_rate == parts[0].audio_config.sample_rate
    assert speech.waveform.ndim == 1 and speech.waveform.dtype == torch.float32
    assert torch.isfinite(speech.waveform).all() and speech.waveform.abs().max() <= 1.0
    assert len(speech.alignments) == 2 == len(speech.symbols) == len(speech.stopped)
    for alignment, symbols in zip(speech.alignments, speech.symbols):
        assert alignment.shape[1] == len(symbols) + 1  # + end-of-sequence
        torch.testing.assert_close(alignment.sum(1), torch.ones(alignment.shape[0]))
    hop = parts[0].audio_config.hop_length
    frames = speech.mel.shape[-1]
    pause = int(round(tts.pause * speech.sample_rate / hop))
    sentence_frames = frames - pause
    assert speech.waveform.numel() == sentence_frames * hop + round(tts.pause * speech.sample_rate)


def test_batch_equals_one_by_one(parts):
    tts = _tts(parts, batch_size=3)
    texts = ["Hello there.", "A much longer sentence, with a comma and 42 things.", "Go!"]
    together = tts.batch(texts)
    for text, speech in zip(texts, together):
        alone = tts(text)
        torch.testing.assert_close(speech.mel, alone.mel, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(speech.waveform, alone.waveform, rtol=1e-4, atol=1e-4)
        for a, b in zip(speech.alignments, alone.alignments):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("text", ["", "   ", "?!...", "\U0001f600\U0001f680", "日本語"])
def test_nothing_to_speak_is_a_clear_error(parts, text):
    with pytest.raises(ParameterError, match="nothing to speak"):
        _tts(parts)(text)


def test_emoji_and_unicode_inside_text_are_handled(parts):
    speech = _tts(parts)("Caf\u00e9 na\u00efve \U0001f600 r\u00e9sum\u00e9 \u2014 fine.")
    assert speech.waveform.numel() > 0
    assert all(s.isascii() and s.isupper() or s in ",.!?;: " for s in speech.symbols[0])


def test_five_thousand_characters_are_split_into_sentences(parts):
    text = " ".join(["The quick brown fox jumps over the lazy dog near the river bank."] * 77)
    assert len(text) > 5000
    speech = _tts(parts, max_frames_per_token=1, batch_size=16)(text)
    assert len(speech.sentences) == 77
    assert len(speech.alignments) == 77


def test_a_vocoder_with_another_audio_config_is_refused(parts):
    model, processor = parts
    other = AudioConfig(sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024, n_mels=20)
    wavenet = create_model("wavenet_tiny", audio_config=other, cond_channels=20)
    with pytest.raises(ConfigMismatchError, match="sample_rate"):
        TextToSpeech(model, processor, vocoder=wavenet)


def test_a_wavenet_with_the_same_audio_config_vocodes(parts):
    model, processor = parts
    torch.manual_seed(0)
    wavenet = create_model("wavenet_tiny", audio_config=model.audio_config,
                           cond_channels=model.audio_config.n_mels).eval()  # fmt: skip
    tts = TextToSpeech(model, processor, vocoder=wavenet, max_frames_per_token=1)
    speech = tts("Hi.")
    frames = speech.mel.shape[-1]
    assert speech.waveform.numel() == frames * model.audio_config.hop_length
    assert torch.isfinite(speech.waveform).all()


def test_load_acoustic_model_round_trip_and_wrong_folders(parts, tmp_path):
    model, processor = parts
    model.save_pretrained(tmp_path / "tts")
    with pytest.raises(CheckpointError, match=TEXT_PROCESSOR_NAME):
        load_acoustic_model(tmp_path / "tts")
    processor.save(tmp_path / "tts" / TEXT_PROCESSOR_NAME)
    loaded, loaded_processor = load_acoustic_model(tmp_path / "tts")
    assert loaded_processor.symbol_table == processor.symbol_table
    tokens, lengths = processor.batch(["hello world"])
    a = model.infer(tokens, lengths, max_decoder_steps=5)[0]
    b = loaded.infer(tokens, lengths, max_decoder_steps=5)[0]
    torch.testing.assert_close(a, b)
    create_model("wavenet_tiny").save_pretrained(tmp_path / "wavenet")
    with pytest.raises(CheckpointError, match="not a 'tacotron2'"):
        load_acoustic_model(tmp_path / "wavenet")


def test_bad_settings(parts):
    model, processor = parts
    with pytest.raises(ParameterError, match="batch_size"):
        TextToSpeech(model, processor, batch_size=0)
    with pytest.raises(ParameterError, match="vocoder"):
        TextToSpeech(model, processor, vocoder="hifigan")
    with pytest.raises(ParameterError, match="symbols"):
        TextToSpeech(model, TextProcessor("characters"))
    with pytest.raises(ParameterError, match="texts"):
        _tts(parts).batch("not a list")


def test_sharpen_post_filters_each_sentence_and_travels_with_the_folder(parts, tmp_path):
    """sharpen: every sentence's mel is the unsharpened one stretched around its own band
    means (floored), the waveform is vocoded from it, and the setting is saved in the
    folder's synthesis.json, read back by from_pretrained and overridden by an argument."""
    import json
    import math

    from synesthesia.functional import sharpen_log_mel
    from synesthesia.pipelines.tts import SYNTHESIS_CONFIG_NAME, limit_peak

    model, _ = parts
    texts = ["Hello there.", "Go on, then."]
    plain = _tts(parts, max_frames_per_token=4, stop_threshold=0.999999).mels(texts)
    sharp = _tts(parts, max_frames_per_token=4, stop_threshold=0.999999, sharpen=1.3).mels(texts)
    floor = math.log(model.audio_config.log_floor)
    for (a, *_), (b, *_) in zip(plain, sharp):
        assert a.shape[-1] > 1
        torch.testing.assert_close(b, sharpen_log_mel(a, factor=1.3, floor=floor))
        assert not torch.equal(a, b)
    tts = _tts(parts, max_frames_per_token=4, stop_threshold=0.999999, sharpen=1.3)
    speech = tts(texts[0])
    alone = tts.mels([texts[0]])[0][0]
    torch.testing.assert_close(speech.mel, alone)
    torch.testing.assert_close(speech.waveform, limit_peak(tts.vocode([alone])[0]))

    folder = tts.save_pretrained(tmp_path / "voice")
    saved = json.loads((folder / SYNTHESIS_CONFIG_NAME).read_text())
    assert saved == {"sharpen": 1.3, "griffin_lim_iters": 4}
    loaded = TextToSpeech.from_pretrained(folder)
    assert loaded.sharpen == 1.3 and loaded.griffin_lim_iters == 4
    assert TextToSpeech.from_pretrained(folder, sharpen=1.0).sharpen == 1.0
    model, processor = parts
    plain = TextToSpeech(model, processor).save_pretrained(tmp_path / "plain")
    assert not (plain / SYNTHESIS_CONFIG_NAME).exists()
    (folder / SYNTHESIS_CONFIG_NAME).write_text('{"sharpness": 2}')
    with pytest.raises(CheckpointError, match="synthesis.json"):
        TextToSpeech.from_pretrained(folder)
    for bad in (0, -1.0, 3.5, True, "1.3"):
        with pytest.raises(ParameterError, match="sharpen"):
            _tts(parts, sharpen=bad)


def test_an_overshooting_waveform_is_scaled_not_clipped():
    from synesthesia.pipelines.tts import PEAK_LIMIT, limit_peak

    t = torch.linspace(0, 1, 1000)
    loud = 1.6 * torch.sin(2 * torch.pi * 5 * t)
    scaled = limit_peak(loud)
    torch.testing.assert_close(scaled, loud * (PEAK_LIMIT / float(loud.abs().max())))
    assert float(scaled.abs().max()) == pytest.approx(PEAK_LIMIT)
    quiet = 0.5 * loud
    assert limit_peak(quiet) is quiet
    assert limit_peak(torch.zeros(0)).numel() == 0
