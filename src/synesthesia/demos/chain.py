"""The lecture's chain, end to end, on the shipped models (demo section "The chain").

image → caption with per-word attention (``caption_digits``) → the caption spoken (the default
voice, :data:`~synesthesia.pipelines.pretrained.DEFAULT_VOICE`, through Griffin-Lim or a
WaveNet: the one shipped for that voice, if any, and any given by name) → its waveform, power
spectrum, spectrogram and mel → the scene the sound suggests (``scene_synthetic``) → the
handwritten digits it retrieves (``embed_digits``: each spoken word alone, and the whole clip)
→ a face from the voice, when a Speech2Face model is at hand (the shipped
``speech2face_synthetic`` when the package has it, or a folder given to
:meth:`Chain.from_pretrained`).

A chain may start later: typed text is spoken instead of the caption, and an uploaded clip
replaces the speech for the sound stages. Every stage is a pipeline call (the same ones the
CLI makes); :class:`Chain` loads the models once, :meth:`Chain.run` returns a
:class:`ChainResult`, :meth:`Chain.figures` draws it, :meth:`Chain.summary` is its JSON. The
web app's chain tab and ``synesthesia demo`` both use this module. Out-of-distribution caveats
(the shipped detectors' ``ood.json``) are collected in ``ChainResult.warnings``: the scene
model was trained on ambient scenes, not speech, so speech is expected to be flagged there.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from synesthesia.errors import ParameterError
from synesthesia.viz.report import Report

__all__ = ["Chain", "ChainResult", "WordRetrieval", "GRIFFIN_LIM", "run"]

log = logging.getLogger(__name__)

#: the model-free vocoder every chain has
GRIFFIN_LIM = "griffin-lim"
#: words spoken one by one for retrieval (a caption of digit strips has 2-4)
MAX_WORDS = 8
#: ranked gallery images shown per query
TOP_K = 3
#: the shipped Speech2Face model the chain draws a face with, when the package has it
FACE_MODEL = "speech2face_synthetic"
#: held-out digit strips the demo section runs the chain on, after the packaged example
NUM_HELD_OUT = 1


@dataclass
class WordRetrieval:
    """One spoken word and the gallery images its clip retrieves."""

    word: str
    names: list[str]
    scores: list[float]
    indices: list[int]
    query: Tensor  # the log-mel (M, N) the audio tower read
    ood_score: float | None = None
    is_ood: bool | None = None


@dataclass
class ChainResult:
    """Everything one run of the chain produced (see :meth:`Chain.run`).

    Attributes:
        caption: the captioner's result (None when the chain started from text or a clip).
        text: the text that was spoken ("" when the chain started from a clip).
        speech: the synthesised speech (None when a clip was given).
        waveform: (T,) the sound the later stages heard, at ``sample_rate``.
        sample_rate: Hz.
        source: what the sound is ("the spoken caption", "the spoken text", "the clip").
        vocoder: the vocoder that rendered the speech (None for a given clip).
        scene: the scene classifier's result for the sound.
        clip_retrieval: the whole sound as one query.
        words: each spoken word as its own query (empty for a given clip).
        face: the face the voice suggests (a ``FacePrediction``; None without a Speech2Face
            model, or when the sound is shorter than its voice encoder needs).
        warnings: out-of-distribution caveats and stage notes, one line each.
    """

    caption: Any
    text: str
    speech: Any
    waveform: Tensor
    sample_rate: int
    source: str
    vocoder: str | None
    scene: Any
    clip_retrieval: WordRetrieval
    words: list[WordRetrieval] = field(default_factory=list)
    face: Any = None
    warnings: list[str] = field(default_factory=list)


class Chain:
    """The shipped models, loaded once, and the chain that runs through them.

    Args:
        captioner: an :class:`~synesthesia.pipelines.ImageCaptioner`.
        voices: name → :class:`~synesthesia.pipelines.TextToSpeech`: :data:`GRIFFIN_LIM` (the
            default voice through Griffin-Lim), the default voice through any WaveNet folders
            (by their names), and the other shipped voices (by their names, e.g.
            ``"tts_natural"``, through Griffin-Lim with their own settings).
        scene: a :class:`~synesthesia.pipelines.scene.SceneClassifier`.
        retriever: an :class:`~synesthesia.pipelines.AudioImageRetriever`.
        gallery: image files to retrieve from.
        face: a :class:`~synesthesia.pipelines.speech2face.Speech2Face`, or None.
    """

    def __init__(self, captioner, voices: Mapping[str, Any], scene, retriever, gallery, face=None):
        if GRIFFIN_LIM not in voices:
            raise ParameterError(f"voices={list(voices)} must include {GRIFFIN_LIM!r}")
        self.captioner, self.voices = captioner, dict(voices)
        self.scene, self.retriever = scene, retriever
        with torch.no_grad():
            self.gallery_embeddings, used, self.gallery_images = retriever.embed_image_files(
                list(gallery)
            )
        self.gallery = [Path(p) for p in used]
        self.face = face

    @classmethod
    def from_pretrained(
        cls,
        *,
        vocoders: Mapping[str, str | os.PathLike] | None = None,
        gallery: str | os.PathLike | None = None,
        face: str | os.PathLike | None = None,
        griffin_lim_iters: int | None = None,
    ) -> Chain:
        """Load the shipped models: the default voice through Griffin-Lim and, when one ships
        for it, its WaveNet (as ``"wavenet"``), and every other shipped voice by its name;
        ``vocoders`` adds WaveNet folders by name;
        ``gallery`` is a folder of images (default: the shipped ten handwritten digits);
        ``face`` a Speech2Face folder (default: the shipped :data:`FACE_MODEL` when the package
        has one, else none); ``griffin_lim_iters`` overrides the voice's own setting
        (``synthesis.json``; else 32)."""
        from synesthesia.pipelines import (
            AudioImageRetriever,
            ImageCaptioner,
            TextToSpeech,
            asset_path,
            list_pretrained,
            pretrained_path,
        )
        from synesthesia.pipelines.pretrained import DEFAULT_VOICE, SHIPPED_VOCODERS
        from synesthesia.pipelines.retrieval import list_media
        from synesthesia.pipelines.scene import SceneClassifier
        from synesthesia.pipelines.speech2face import Speech2Face
        from synesthesia.pipelines.vocoder import load_vocoder

        overrides = {} if griffin_lim_iters is None else {"griffin_lim_iters": griffin_lim_iters}
        default = TextToSpeech.from_pretrained(DEFAULT_VOICE, **overrides)
        voices = {GRIFFIN_LIM: default}
        vocoders = dict(vocoders or {})
        if DEFAULT_VOICE in SHIPPED_VOCODERS:
            vocoders.setdefault("wavenet", pretrained_path(SHIPPED_VOCODERS[DEFAULT_VOICE]))
        for name, folder in vocoders.items():
            voices[str(name)] = TextToSpeech(
                default.acoustic_model,
                default.text_processor,
                vocoder=load_vocoder(folder),
                sharpen=default.sharpen,
            )
        from synesthesia.demos.speech import shipped_voices

        for name in shipped_voices():  # the other shipped voices, by name, through Griffin-Lim
            if name != DEFAULT_VOICE and name not in voices:
                voices[name] = TextToSpeech.from_pretrained(name)
        folder = asset_path("embed_digits/query_seven.wav").parent / "gallery"
        if face is None and FACE_MODEL in list_pretrained():
            face = pretrained_path(FACE_MODEL)
        return cls(
            ImageCaptioner.from_pretrained(pretrained_path("caption_digits")),
            voices,
            SceneClassifier.from_pretrained(pretrained_path("scene_synthetic")),
            AudioImageRetriever.from_pretrained(pretrained_path("embed_digits")),
            list_media(folder if gallery is None else gallery, "image"),
            None if face is None else Speech2Face.from_pretrained(face),
        )

    # ------------------------------------------------------------------ the stages
    def retrieve(self, waveform: Tensor, sample_rate: int, *, label: str) -> WordRetrieval:
        """Rank the gallery for one mono clip (T,)."""
        retriever = self.retriever
        audio, lengths = retriever.prepare_audio(waveform, sample_rate)
        with torch.no_grad():
            query = retriever.model.encode_audio(audio, lengths)[0]
        ranking = retriever.rank(
            query, self.gallery_embeddings, [p.name for p in self.gallery], k=TOP_K
        )
        scores = retriever.audio_ood(audio, lengths)
        shown = audio[0]
        if retriever.model.audio_input == "waveform":
            shown = retriever.log_mel(audio, lengths)[0][0]
        return WordRetrieval(
            label, ranking.names, ranking.scores, ranking.indices, shown,
            None if scores is None else float(scores[0][0]),
            None if scores is None else bool(scores[1][0]),
        )  # fmt: skip

    def run(
        self,
        *,
        image: str | os.PathLike | Tensor | None = None,
        text: str | None = None,
        audio: tuple[Tensor, int] | None = None,
        vocoder: str = GRIFFIN_LIM,
        beam_size: int = 3,
    ) -> ChainResult:
        """Run the chain from an image, a text or a clip (the latest given wins the stage).

        Args:
            image: an image file or a (C, H, W) tensor in [0, 1]: captioned.
            text: spoken instead of the caption.
            audio: ``(waveform (T,), sample_rate)``: heard instead of the speech.
            vocoder: a name of :attr:`voices`.
            beam_size: caption beam width.

        Raises:
            ParameterError: nothing to start from, an unknown vocoder, or a stage refusing its
                input (the message names it).
        """
        from synesthesia.io.audio import resample
        from synesthesia.metrics.ood import ood_warning

        if image is None and not (text and text.strip()) and audio is None:
            raise ParameterError("the chain needs an image, a text or a clip to start from")
        if vocoder not in self.voices:
            raise ParameterError(
                f"vocoder={vocoder!r} is not loaded; choose one of {list(self.voices)}"
            )
        notes: list[str] = []
        caption = None
        if image is not None:
            caption = self.captioner([image], beam_size=beam_size)[0]
            notes.append(ood_warning("the image", caption.ood_score, caption.is_ood,
                                     self.captioner.ood))  # fmt: skip
        spoken = text.strip() if text and text.strip() else (caption.caption if caption else "")
        speech, words = None, []
        if audio is not None:
            waveform, rate = audio
            if waveform.dim() != 1 or waveform.numel() == 0:
                raise ParameterError(
                    f"audio of shape {tuple(waveform.shape)} must be a non-empty (T,)"
                )
            source, used_vocoder = "the clip", None
        else:
            if not spoken:
                raise ParameterError("the caption of the image is empty: nothing to speak")
            tts = self.voices[vocoder]
            speech = tts(spoken)
            waveform, rate = speech.waveform, speech.sample_rate
            source = "the spoken text" if text and text.strip() else "the spoken caption"
            used_vocoder = vocoder
            chosen = [w for w in spoken.split() if any(c.isalnum() for c in w)][:MAX_WORDS]
            for word, said in zip(chosen, tts.batch(chosen) if chosen else []):
                retrieval = self.retrieve(said.waveform, said.sample_rate, label=word)
                words.append(retrieval)
                notes.append(ood_warning(f"the spoken word “{word}”", retrieval.ood_score,
                                         retrieval.is_ood, self.retriever.ood))  # fmt: skip
        heard = resample(waveform, orig_sample_rate=rate, target_sample_rate=self.scene.sample_rate)
        if heard.numel() < self.scene.model.min_length:
            raise ParameterError(
                f"{source} is {waveform.numel() / rate:.3f} s long; the scene model needs at "
                f"least {self.scene.model.min_length / self.scene.sample_rate:.3f} s"
            )
        scene = self.scene(heard[None])[0]
        notes.append(ood_warning(f"{source} (scene model)", scene.ood_score, scene.is_ood,
                                 self.scene.ood))  # fmt: skip
        clip = self.retrieve(waveform, rate, label=source)
        notes.append(ood_warning(f"{source} (retrieval model)", clip.ood_score, clip.is_ood,
                                 self.retriever.ood))  # fmt: skip
        face = None
        if self.face is not None:
            voice = resample(waveform, orig_sample_rate=rate,
                             target_sample_rate=self.face.sample_rate)  # fmt: skip
            minimum = self.face.model.voice_encoder.min_length
            if voice.numel() >= minimum:
                face = self.face(voice[None])[0]
            else:
                seconds = minimum / self.face.sample_rate
                notes.append(f"{source} is too short for the face model (it needs "
                             f"{seconds:.2f} s): no face drawn")  # fmt: skip
        return ChainResult(
            caption=caption, text=spoken if audio is None else "", speech=speech,
            waveform=waveform, sample_rate=rate, source=source, vocoder=used_vocoder,
            scene=scene, clip_retrieval=clip, words=words, face=face,
            warnings=[n for n in notes if n is not None],
        )  # fmt: skip

    # --------------------------------------------------------------- what it shows
    def figures(self, result: ChainResult) -> dict[str, Any]:
        """Matplotlib figures of a result, by stage: ``attention`` (when captioned),
        ``speech`` (mel + alignment, when synthesised), ``representations``, ``scene``,
        ``retrieval``, ``face`` (when drawn). Close them (``plt.close(fig)``) after saving."""
        from synesthesia.metrics.ood import ood_warning
        from synesthesia.viz.attention import plot_caption_attention
        from synesthesia.viz.audio import plot_representations
        from synesthesia.viz.retrieval import plot_retrieval_rows
        from synesthesia.viz.scene import plot_scene_probabilities
        from synesthesia.viz.tts import plot_speech

        out: dict[str, Any] = {}
        c = result.caption
        if c is not None:
            out["attention"] = plot_caption_attention(
                c.image, c.words, c.attention_maps, title=f"caption: {c.caption}"
            )
        if result.speech is not None:
            tts = self.voices[result.vocoder]
            out["speech"] = plot_speech(
                result.speech, hop_seconds=tts.audio_config.hop_length / tts.sample_rate,
                reduction_factor=tts.acoustic_model.reduction_factor,
            )  # fmt: skip
        out["representations"] = plot_representations(
            result.waveform, result.sample_rate, n_fft=1024, hop_length=256, n_mels=80,
            title=result.source,
        )  # fmt: skip
        scene = result.scene
        out["scene"] = plot_scene_probabilities(
            dict(scene.top()), title=f"the scene {result.source} suggests",
            warning=ood_warning(result.source, scene.ood_score, scene.is_ood, self.scene.ood),
        )  # fmt: skip
        rows = [
            (r.word, r.query, [self.gallery_images[i] for i in r.indices], r.scores)
            for r in [*result.words, result.clip_retrieval]
        ]
        out["retrieval"] = plot_retrieval_rows(rows, title="what each sound retrieves")
        if result.face is not None:
            out["face"] = plot_face(result.face, title=f"the face {result.source} suggests")
        return out

    def summary(self, result: ChainResult) -> dict[str, Any]:
        """The result as JSON-ready values."""

        def retrieval(r: WordRetrieval) -> dict[str, Any]:
            return {"query": r.word, "ranking": [{"image": n, "cosine": round(s, 4)}
                    for n, s in zip(r.names, r.scores)],
                    "ood_score": r.ood_score, "is_ood": r.is_ood}  # fmt: skip

        c = result.caption
        return {
            "caption": None if c is None else {
                "text": c.caption, "words": c.words, "score": c.score,
                "ood_score": c.ood_score, "is_ood": c.is_ood,
            },
            "spoken_text": result.text,
            "sound": {"source": result.source, "vocoder": result.vocoder,
                      "sample_rate": result.sample_rate,
                      "seconds": round(result.waveform.numel() / result.sample_rate, 3)},
            "scene": {"probabilities": {k: round(v, 4) for k, v in result.scene.top()},
                      "ood_score": result.scene.ood_score, "is_ood": result.scene.is_ood},
            "retrieval": {"words": [retrieval(r) for r in result.words],
                          "clip": retrieval(result.clip_retrieval)},
            "face": None if result.face is None else {"attributes": result.face.attributes},
            "warnings": result.warnings,
        }  # fmt: skip


def run(report: Report, *, workdir: Path, seed: int) -> None:
    """Demo section: the chain on the packaged example strip and on a held-out strip."""
    import matplotlib.pyplot as plt

    from synesthesia.data.digit_strips import make_digit_strips
    from synesthesia.io import save_audio
    from synesthesia.pipelines import asset_path

    chain = Chain.from_pretrained()
    examples: list[tuple[str, Any]] = [
        ("the packaged example strip (assets/digit_strip_example.png)",
         asset_path("digit_strip_example.png")),
    ]  # fmt: skip
    if NUM_HELD_OUT:
        strips = make_digit_strips(NUM_HELD_OUT, split="test", seed=seed)
        examples += [
            (f"a held-out strip (“{caption}”, scans never seen in training)", image)
            for caption, image in zip(strips.captions, strips.images)
        ]
    report.text(
        "One input travels through every shipped model: the captioner reads an image of "
        "handwritten digits and says where it looked for each word; the Tacotron 2 voice "
        "speaks the caption (Griffin-Lim); the sound is drawn as waveform, power spectrum, "
        "spectrogram and mel; the scene model says which ambient scene it sounds like (it "
        "knows only synthetic scenes, so its out-of-distribution detector flags speech); and "
        "the joint audio–image embedding retrieves a handwritten digit for each spoken word "
        "and for the whole caption"
        + ("; and Speech2Face draws the face the voice suggests (trained on synthetic "
           "voice–face pairs)" if chain.face is not None else "")
        + ". The web app (`synesthesia serve`) runs the same chain on your own images, text "
        "and recordings."
    )  # fmt: skip
    audio_dir = Path(workdir) / "audio"
    for k, (label, image) in enumerate(examples):
        result = chain.run(image=image)
        figures = chain.figures(result)
        report.text(f"Input: {label}. Caption: “{result.caption.caption}”.")
        captions = {
            "attention": "Each panel: where the captioner looked for one word.",
            "speech": "The spoken caption: predicted log-mel and attention alignment.",
            "representations": "Its waveform, power spectrum, spectrogram and mel.",
            "scene": "The scene the sound suggests.",
            "retrieval": "Each spoken word, and the whole caption, as a query: the "
            "handwritten digits it retrieves (cosine similarity).",
            "face": "The face the voice suggests (Speech2Face, trained on synthetic "
            "voice–face pairs).",
        }
        for name, fig in figures.items():
            report.figure(fig, caption=captions[name])
            plt.close(fig)
        report.audio(result.waveform, result.sample_rate,
                     caption=f"“{result.text}” ({result.vocoder})")  # fmt: skip
        save_audio(audio_dir / f"chain_{k}.wav", result.waveform, result.sample_rate)
        found = " ".join(Path(r.names[0]).stem for r in result.words)
        rows = [
            ["caption", result.caption.caption],
            ["digits retrieved, word by word", found],
            ["scene", f"{result.scene.top(1)[0][0]} ({result.scene.top(1)[0][1]:.2f})"],
        ]
        rows += [["caveat", w] for w in result.warnings]
        report.table(rows, header=["stage", "result"])
    log.info("chain demo done")


def plot_face(prediction: Any, *, title: str = "") -> Any:
    """A decoded face (3, S, S) with the attributes read off it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.0, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.imshow(prediction.face.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy())
    ax.set_xticks([])
    ax.set_yticks([])
    attributes = ", ".join(f"{k}: {v}" for k, v in prediction.attributes.items())
    ax.set_title("\n".join(t for t in (title, attributes) if t), fontsize=8)
    return fig
