"""Speech engines behind one interface (eSpeak NG, Piper, Flite, Festival)."""

import shutil

import numpy as np
import pytest

from synesthesia.data.engines import (
    EngineUnavailableError,
    available_engines,
    get_engine,
    parse_speaker,
)
from synesthesia.data.spoken_digits import make_spoken_digits
from synesthesia.errors import ParameterError

ENGINE_VOICES = {
    "espeak": "en-us+f3",
    "piper": "joe",
    "flite": "slt",
    "festival": "kal_diphone",
}


def _usable(engine: str) -> bool:
    return ENGINE_VOICES[engine] in available_engines()[engine]


def _skip_unless(engine: str) -> None:
    if not _usable(engine):
        pytest.skip(f"the {engine} engine is not installed here (see data/engines.py)")


def test_parse_speaker():
    assert parse_speaker("en-us+f3") == ("espeak", "en-us+f3")
    assert parse_speaker("piper:joe") == ("piper", "joe")
    with pytest.raises(ParameterError, match="engine 'nope'"):
        parse_speaker("nope:x")
    with pytest.raises(ParameterError, match="names no voice"):
        parse_speaker("flite:")
    with pytest.raises(ParameterError, match="speaker"):
        parse_speaker("")


@pytest.mark.parametrize("engine", sorted(ENGINE_VOICES))
def test_each_engine_speaks_and_speed_changes_duration(engine):
    _skip_unless(engine)
    synth = get_engine(engine)
    voice = ENGINE_VOICES[engine]
    normal, rate = synth.synthesize("seven three", voice=voice)
    fast, fast_rate = synth.synthesize("seven three", voice=voice, speed=1.6)
    assert rate == fast_rate and rate >= 16000
    assert normal.dtype == np.float32 and normal.ndim == 1
    assert np.abs(normal).max() <= 1.0 and np.abs(normal).max() > 0.05
    assert len(fast) < 0.85 * len(normal)


def test_piper_variation_knobs_are_seeded(monkeypatch):
    """Piper's noise is drawn inside onnxruntime (unseeded): its samples are not reproducible,
    but the knobs we draw are; a corpus is fixed by its cache."""
    _skip_unless("piper")
    import piper

    seen = []
    real = piper.SynthesisConfig

    def spy(**kwargs):
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(piper, "SynthesisConfig", spy)
    synth = get_engine("piper")
    for seed in (3, 3, 4):
        synth.synthesize(
            "four", voice="joe", speed=1.25, rng=np.random.default_rng(seed), vary=True
        )
    assert seen[0] == seen[1] != seen[2]
    assert seen[0]["length_scale"] == pytest.approx(0.8)


def test_missing_program_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(EngineUnavailableError, match="apt-get install flite"):
        get_engine("flite").synthesize("one", voice="slt")
    with pytest.raises(EngineUnavailableError, match="festival"):
        get_engine("festival").synthesize("one", voice="kal_diphone")
    assert available_engines()["flite"] == []


def test_bad_arguments():
    with pytest.raises(ParameterError, match="engine='x'"):
        get_engine("x")
    with pytest.raises(ParameterError, match="speed"):
        get_engine("espeak").synthesize("one", voice="en-us", speed=0)
    with pytest.raises(ParameterError, match="text"):
        get_engine("espeak").synthesize("  ", voice="en-us")
    with pytest.raises(ParameterError, match="voice"):
        get_engine("espeak").synthesize("one", voice="en-us+nope")


def test_spoken_digits_mix_engines(tmp_path):
    speakers = ["en-us+f4"] + [f"{e}:{v}" for e, v in ENGINE_VOICES.items() if e != "espeak"]
    speakers = [s for s in speakers if _usable(parse_speaker(s)[0])]
    data = make_spoken_digits(
        "test",
        voices=speakers,
        variations={"espeak": 1, "default": 2},
        cache_dir=tmp_path,
    )
    expected = 10 + 20 * (len(speakers) - 1)
    assert data.waveform.shape[0] == expected == len(data.voices)
    assert sorted(set(data.voices)) == sorted(speakers)
    again = make_spoken_digits(
        "test", voices=speakers, variations={"espeak": 1, "default": 2}, cache_dir=tmp_path
    )
    assert torch_equal(data.waveform, again.waveform)
    with pytest.raises(ParameterError, match="variations"):
        make_spoken_digits("test", voices=speakers, variations={"piper": 0}, use_cache=False)
    with pytest.raises(ParameterError, match="engine 'nope'"):
        make_spoken_digits("test", voices=["nope:x"], use_cache=False)


def torch_equal(a, b) -> bool:
    return bool((a == b).all())
