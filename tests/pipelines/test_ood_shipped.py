"""Each shipped OOD detector: held-out in-distribution inputs pass, foreign ones are flagged.

The detectors are fitted by ``python benchmarks/ood.py --fit all`` (AUROC table in
docs/results.md, "Out-of-distribution scores"); these are fast spot checks of the shipped files.
"""

from __future__ import annotations

import pytest
import torch

from synesthesia.data import foreign
from synesthesia.io.audio import load_audio
from synesthesia.metrics.ood import load_ood_detector
from synesthesia.pipelines import AudioImageRetriever, ImageCaptioner, asset_path, pretrained_path
from synesthesia.pipelines.scene import SceneClassifier

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SENTENCE = "The kettle began to whistle just as the phone rang in the hallway."


@pytest.mark.parametrize("name", ["scene_synthetic", "caption_digits", "embed_digits"])
def test_shipped_detector_records_its_fit(name):
    detector = load_ood_detector(pretrained_path(name))  # None if fitted for other weights
    assert detector is not None
    assert detector.percentile == 99.0
    assert min(detector.info["auroc"].values()) >= 0.95
    assert detector.info["command"].startswith("python benchmarks/ood.py --fit ")


def test_scene_held_out_clip_passes_and_a_chord_is_flagged():
    classifier = SceneClassifier.from_pretrained(pretrained_path("scene_synthetic"))
    assert classifier.ood is not None
    birds = classifier.predict_file(asset_path("scene_birds.wav"))  # a held-out test scene
    assert birds.top(1)[0][0] == "birds"
    assert birds.is_ood is False and birds.ood_score < classifier.ood.threshold
    chord = foreign.synthetic_music(1, sample_rate=classifier.sample_rate, duration=2.0, seed=0)
    result = classifier(chord)[0]  # clip 0 of synthetic_music is a chord sequence
    assert result.is_ood is True and result.ood_score > classifier.ood.threshold
    features, logits = classifier.features_and_logits(chord)
    assert classifier.ood.scores(features=features, logits=logits).item() == pytest.approx(
        result.ood_score
    )


def test_captioner_digit_strip_passes_and_the_astronaut_is_flagged():
    captioner = ImageCaptioner.from_pretrained(pretrained_path("caption_digits"))
    assert captioner.ood is not None
    strip, astronaut = captioner(
        [asset_path("digit_strip_example.png"), foreign.foreign_photos(["astronaut"])[0]]
    )
    assert strip.caption == "seven six three" and strip.is_ood is False
    assert astronaut.is_ood is True and astronaut.ood_score > captioner.ood.threshold


def test_embed_spoken_digit_passes_and_a_sentence_is_flagged():
    retriever = AudioImageRetriever.from_pretrained(pretrained_path("embed_digits"))
    assert retriever.ood is not None
    waveform, rate = load_audio(asset_path("embed_digits/query_seven.wav"))
    scores, flags = retriever.audio_ood(*retriever.prepare_audio(waveform, rate))
    assert not bool(flags[0]) and float(scores[0]) < retriever.ood.threshold
    speech, lengths = foreign.speech_clips([SENTENCE], ["en-us"], sample_rate=16000)
    scores, flags = retriever.audio_ood(*retriever.prepare_audio(speech[0, : lengths[0]], 16000))
    assert bool(flags[0]) and float(scores[0]) > retriever.ood.threshold


def test_folder_without_a_detector_gives_no_score(tmp_path):
    from synesthesia.models import create_model

    model = create_model("scene_student_tiny", sample_rate=8000)
    model.save_pretrained(tmp_path)
    classifier = SceneClassifier.from_pretrained(tmp_path)
    result = classifier(torch.zeros(1, 4 * model.min_length))[0]
    assert classifier.ood is None and result.ood_score is None and result.is_ood is None
