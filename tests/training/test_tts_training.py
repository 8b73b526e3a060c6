"""TTS training data: held-out sentences stay out, length-bucketed batches, padding, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from synesthesia.data.espeak_corpus import reference_voice, write_espeak_corpus
from synesthesia.data.sentences import heldout_sentences, is_heldout_sentence
from synesthesia.data.speech import read_ljspeech_metadata
from synesthesia.errors import ParameterError
from synesthesia.models import create_model
from synesthesia.text import TextProcessor
from synesthesia.training.tts import BucketSampler, TTSDataModule, collate_tts


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tts_data")
    with pytest.warns(UserWarning, match="1 voice"):
        write_espeak_corpus(
            out, num_utterances=30, voices=["en-us"], kind="grid", seed=0, sample_rate=16000
        )
    # plant two held-out GRID sentences: they must never reach training or validation
    rows = read_ljspeech_metadata(out / "metadata.csv")
    planted = heldout_sentences("grid", 2, seed=9)
    lines = [f"{i}|{t}|{n}" for i, t, n in rows]
    for k, sentence in enumerate(planted):
        source = out / "wavs" / f"{rows[k][0]}.wav"
        (out / "wavs" / f"PLANT-{k}.wav").write_bytes(source.read_bytes())
        lines.append(f"PLANT-{k}|{sentence.text}|{sentence.normalized}")
    (out / "metadata.csv").write_text("\n".join(lines) + "\n")
    return out


def _module(corpus, **kwargs):
    model = create_model("tacotron2_tiny")
    kwargs.setdefault("val_fraction", 0.2)
    return TTSDataModule(corpus, audio_config=model.audio_config,
                         text_processor=TextProcessor("phonemes"), **kwargs)  # fmt: skip


def test_heldout_sentences_never_enter_training(corpus):
    rows = read_ljspeech_metadata(corpus / "metadata.csv")
    heldout = sum(is_heldout_sentence(text) for _, text, _ in rows)
    assert heldout >= 2
    kept = _module(corpus)
    everything = _module(corpus, drop_heldout=False)
    total = len(kept.train_items) + len(kept.val_items)
    assert total == len(rows) - heldout
    assert len(everything.train_items) + len(everything.val_items) == len(rows)


def test_items_are_tokens_and_log_mels_of_the_model_analysis(corpus):
    module = _module(corpus)
    config = create_model("tacotron2_tiny").audio_config
    tokens, mel = module.train_items[0]
    assert (
        tokens.dtype == torch.long and tokens[-1] == TextProcessor("phonemes").symbol_table.eos_id
    )
    assert mel.shape[0] == config.n_mels and mel.min() >= torch.log(torch.tensor(config.log_floor))
    assert module.train_seconds > 10


def test_bucketed_batches_are_padded_neighbours(corpus):
    module = _module(corpus, batch_size=4)
    sampler = BucketSampler(module.train_items, batch_size=4)
    lengths = sorted(m.shape[-1] for _, m in module.train_items)
    batch = sampler(torch.Generator().manual_seed(3))
    assert batch["tokens"].shape[0] == 4 and batch["mel"].shape[:2] == (4, 20)
    got = batch["mel_lengths"].tolist()
    assert got == sorted(got)
    windows = [lengths[i : i + 4] for i in range(len(lengths) - 3)]
    assert got in windows  # consecutive in length order
    assert batch["mel"].shape[-1] == max(got)
    for row in range(4):  # padding is zero past each length
        assert (batch["mel"][row, :, got[row] :] == 0).all()
        assert (batch["tokens"][row, int(batch["token_lengths"][row]) :] == 0).all()
    again = sampler(torch.Generator().manual_seed(3))
    assert torch.equal(again["mel"], batch["mel"])  # batch j depends only on its generator


def test_collate_and_module_errors(corpus, tmp_path):
    with pytest.raises(ParameterError, match="at least one"):
        collate_tts([])
    with pytest.raises(ParameterError, match="metadata.csv"):
        _module(tmp_path)
    with pytest.raises(ParameterError, match="batch_size"):
        _module(corpus, batch_size=0)
    with pytest.raises(ParameterError, match="max_frames"):
        _module(corpus, max_frames=1)
    with pytest.raises(ParameterError, match="non-empty"):
        _module(corpus, max_frames=2)  # every clip is longer


def test_reference_voice_of_single_and_mixed_corpora(corpus, tmp_path):
    assert reference_voice(corpus) == {"voice": "en-us", "rate": 175, "pitch": 50}
    module = _module(corpus)
    module.export(tmp_path)  # the model folder keeps the corpus settings
    assert reference_voice(tmp_path) == reference_voice(corpus)
    assert reference_voice(tmp_path / "nowhere") is None
    mixed = tmp_path / "mixed"
    with pytest.warns(UserWarning, match="2 voice"):
        write_espeak_corpus(mixed, num_utterances=2, voices=["en-us", "en-us+f5"], kind="grid",
                            sample_rate=16000)  # fmt: skip
    assert reference_voice(mixed) is None
    varied = tmp_path / "varied"
    with pytest.warns(UserWarning, match="1 voice"):
        write_espeak_corpus(varied, num_utterances=2, voices=["en-us+f5"], kind="grid",
                            rate_range=(150, 200), sample_rate=16000)  # fmt: skip
    assert reference_voice(varied) is None
