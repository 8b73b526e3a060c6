"""eSpeak NG through ctypes: voices, determinism, rate, errors, phonemes."""

import threading

import pytest
import torch

from synesthesia.data.espeak import (
    ESPEAK_SAMPLE_RATE,
    EspeakSynthesizer,
    espeak_phonemes,
    list_languages,
    list_variants,
    list_voices,
)
from synesthesia.errors import ParameterError

VOICES = ["en-us", "en-us+f1", "en-us+f4", "en-us+m3", "en-us+m7", "en-gb-x-rp"]


@pytest.fixture(scope="module")
def synth():
    return EspeakSynthesizer()


@pytest.mark.parametrize("voice", VOICES)
def test_voice_speaks_at_22050_with_sensible_duration(synth, voice):
    waveform, sample_rate = synth.synthesize("bin blue at f two now", voice=voice)
    assert sample_rate == ESPEAK_SAMPLE_RATE == 22050
    assert waveform.dtype == torch.float32 and waveform.ndim == 1
    seconds = waveform.numel() / sample_rate
    assert 0.8 < seconds < 3.0, seconds  # six short words at 175 words per minute
    assert 0.05 < waveform.abs().max() <= 1.0
    assert torch.isfinite(waveform).all()


def test_synthesis_is_deterministic_whatever_came_before(synth):
    first, _ = synth.synthesize("place green by k seven soon", voice="en-us+f3", pitch=60)
    synth.synthesize("something else entirely", voice="en-us+m1", rate=300)
    again, _ = synth.synthesize("place green by k seven soon", voice="en-us+f3", pitch=60)
    assert torch.equal(first, again)


def test_voices_rate_and_pitch_change_the_audio(synth):
    text = "set white with u nine soon"
    base, _ = synth.synthesize(text, voice="en-us")
    female, _ = synth.synthesize(text, voice="en-us+f2")
    fast, _ = synth.synthesize(text, voice="en-us", rate=300)
    slow, _ = synth.synthesize(text, voice="en-us", rate=100)
    assert not torch.equal(base[:10000], female[:10000])
    assert fast.numel() < base.numel() < slow.numel()
    high, _ = synth.synthesize(text, voice="en-us", pitch=90)
    assert not torch.equal(base[:10000], high[:10000])


def test_thread_safe(synth):
    expected = {v: synth.synthesize("lay red in q one again", voice=v)[0] for v in VOICES[:4]}
    results, errors = {}, []

    def work(voice):
        try:
            for _ in range(3):
                results.setdefault(voice, []).append(
                    synth.synthesize("lay red in q one again", voice=voice)[0]
                )
        except Exception as exc:  # collected and re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(v,)) for v in VOICES[:4]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for voice, outs in results.items():
        assert all(torch.equal(o, expected[voice]) for o in outs)


def test_list_voices_are_all_usable(synth):
    voices = list_voices("en-us")
    assert len(voices) > 90  # plain + about a hundred variants
    standard = list_voices("en-us", standard_only=True)
    assert standard == ["en-us"] + [f"en-us+f{i}" for i in range(1, 6)] + [
        f"en-us+m{i}" for i in range(1, 8)
    ]
    for voice in voices[::10]:
        waveform, _ = synth.synthesize("seven", voice=voice)
        assert waveform.abs().max() > 0.01, voice
    assert "f3" in list_variants() and "klatt" in list_variants()
    assert {"en-us", "en-gb-x-rp", "en"} <= set(list_languages())


def test_errors_name_the_argument(synth):
    with pytest.raises(ParameterError, match="voice='en-us\\+nonexistent'"):
        synth.synthesize("hello", voice="en-us+nonexistent")
    with pytest.raises(ParameterError, match="voice='zz-nonexistent'"):
        synth.synthesize("hello", voice="zz-nonexistent")
    # eSpeak NG itself would speak "klingon" with its default voice: refused before that
    with pytest.raises(ParameterError, match="unknown eSpeak NG language 'klingon'"):
        synth.synthesize("hello", voice="klingon")
    with pytest.raises(ParameterError, match="unknown eSpeak NG language 'klingon'"):
        synth.synthesize("hello", voice="klingon+f1")
    with pytest.raises(ParameterError, match="rate=10"):
        synth.synthesize("hello", rate=10)
    with pytest.raises(ParameterError, match="pitch=101"):
        synth.synthesize("hello", pitch=101)
    with pytest.raises(ParameterError, match="text=''"):
        synth.synthesize("")
    with pytest.raises(ParameterError, match="language"):
        list_voices("en-us+f1")


def test_missing_package_is_a_clear_error(monkeypatch):
    import sys

    from synesthesia.data import espeak

    monkeypatch.setattr(espeak, "_PRIVATE_COPY", None)
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)
    with pytest.raises(ParameterError, match="espeakng-loader"):
        EspeakSynthesizer()


def test_phonemes_are_ipa():
    assert espeak_phonemes("Hello world") == "həlˈoʊ wˈɜːld"
    assert espeak_phonemes("42") == "fˈɔːɹɾi tˈuː"
    # clauses are joined with a space; punctuation itself is dropped
    assert espeak_phonemes("Yes, no.") == "jˈɛs nˈoʊ"
    assert espeak_phonemes("eh") == "ˈeɪ"  # the spoken form of the GRID letter "a"
