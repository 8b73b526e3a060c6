"""What each tab of the web app does, without the page: files in, pipeline calls, files out.

:class:`Service` loads the models once (the chain's shipped models, optional WaveNet vocoders
and an optional language model) and shares them between requests; the app queues requests so
one runs at a time. Each method takes what the page sends (file paths inside the app's
temporary folder, strings, numbers), calls the same pipelines as the CLI and returns an
:class:`Answer`: text, the files it wrote into a fresh folder of its own under the temporary
folder (WAV, PNG, JSON) and the out-of-distribution caveats. Bad input raises
:class:`~synesthesia.errors.ParameterError` with a message for the page (see
:mod:`synesthesia.web.limits`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from synesthesia.errors import ParameterError
from synesthesia.web.limits import (
    MAX_GALLERY_IMAGES,
    check_text,
    inside,
    read_clip,
    read_picture,
)

__all__ = ["Answer", "RESULT_MAX_AGE", "Service"]

#: a result folder older than this (seconds) is deleted when the next result is written, so a
#: server that runs for days keeps about an hour of results, not all of them
RESULT_MAX_AGE = 3600.0


@dataclass
class Answer:
    """One tab's result: ``text`` to show, ``files`` by role (``"wav"``, ``"attention"``,
    ``"json"`` ...), ``data`` (the JSON written), ``warnings`` (one line each)."""

    text: str = ""
    files: dict[str, Path] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def downloads(self) -> list[str]:
        """Every file written, for the page's download list."""
        return [str(p) for p in self.files.values()]


class Service:
    """The models of the web app, loaded once.

    Args:
        workdir: the app's temporary folder: uploads arrive there, results are written there,
            and nothing outside it is read from a request or served.
        vocoders: WaveNet folders by name (Griffin-Lim is always there).
        lm: a language-model folder (``synesthesia lm train``'s OUT/model), or None.
        face: a Speech2Face folder (default: the shipped one when the package has it).
    """

    def __init__(
        self,
        workdir: str | os.PathLike,
        *,
        vocoders: Mapping[str, str | os.PathLike] | None = None,
        lm: str | os.PathLike | None = None,
        face: str | os.PathLike | None = None,
    ) -> None:
        from synesthesia.demos.chain import Chain
        from synesthesia.pipelines.lm import TextGenerator

        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.chain = Chain.from_pretrained(vocoders=vocoders, face=face)
        self.lm = None if lm is None else TextGenerator.from_pretrained(lm, flag="--lm")
        self.lm_folder = None if lm is None else Path(lm)
        self._lock = threading.Lock()  # one request at a time touches the models

    @property
    def vocoders(self) -> list[str]:
        return list(self.chain.voices)

    # ---------------------------------------------------------------- file helpers
    def _folder(self) -> Path:
        cutoff = time.time() - RESULT_MAX_AGE
        for old in self.workdir.glob("result_*"):
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        return Path(tempfile.mkdtemp(prefix="result_", dir=self.workdir))

    @staticmethod
    def _png(folder: Path, name: str, fig: Any) -> Path:
        import matplotlib.pyplot as plt

        path = folder / f"{name}.png"
        fig.savefig(path, dpi=90)  # every figure lays itself out (constrained or tight)
        plt.close(fig)
        return path

    @staticmethod
    def _wav(folder: Path, name: str, waveform: torch.Tensor, sample_rate: int) -> Path:
        from synesthesia.io import save_audio

        return save_audio(folder / f"{name}.wav", waveform.clamp(-1, 1), sample_rate,
                          subtype="PCM_16")  # fmt: skip

    @staticmethod
    def _json(folder: Path, name: str, data: dict) -> Path:
        path = folder / f"{name}.json"
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        return path

    def _voice(self, vocoder: str | None):
        name = vocoder or "griffin-lim"
        if name not in self.chain.voices:
            raise ParameterError(f"vocoder {name!r} is not loaded; choose one of {self.vocoders}")
        return name, self.chain.voices[name]

    # ----------------------------------------------------------------------- tabs
    def run_chain(
        self, image: str | None, text: str | None, clip: str | None, vocoder: str | None
    ) -> Answer:
        """Image → caption → speech → representations → scene → retrieval (see
        :mod:`synesthesia.demos.chain`)."""
        text = check_text(text, required=False)
        picture = None if image is None else read_picture(image, self.workdir)
        audio = None if clip is None else read_clip(clip, self.workdir)
        if picture is None and not text and audio is None:
            raise ParameterError("the chain needs a start: upload an image, type a text or "
                                 "give a clip")  # fmt: skip
        name, _ = self._voice(vocoder)
        with self._lock:
            result = self.chain.run(image=picture, text=text or None, audio=audio, vocoder=name)
            figures = self.chain.figures(result)
            summary = self.chain.summary(result)
        folder = self._folder()
        files = {key: self._png(folder, f"chain_{key}", fig) for key, fig in figures.items()}
        files["wav"] = self._wav(folder, "chain_sound", result.waveform, result.sample_rate)
        files["json"] = self._json(folder, "chain", summary)
        caption = result.caption.caption if result.caption is not None else ""
        return Answer(caption, files, summary, list(result.warnings))

    def caption(self, image: str | None, beam_size: int = 3) -> Answer:
        from synesthesia.metrics.ood import ood_warning
        from synesthesia.viz.attention import plot_caption_attention

        picture = read_picture(image, self.workdir)
        beam = int(beam_size)
        if not 1 <= beam <= 10:
            raise ParameterError(f"beam size {beam_size!r} must be between 1 and 10")
        captioner = self.chain.captioner
        with self._lock:
            result = captioner([picture], beam_size=beam)[0]
            fig = plot_caption_attention(result.image, result.words, result.attention_maps,
                                         title=result.caption)  # fmt: skip
        folder = self._folder()
        data = {"caption": result.caption, "words": result.words, "score": result.score,
                "ood_score": result.ood_score, "is_ood": result.is_ood}  # fmt: skip
        files = {"attention": self._png(folder, "attention", fig),
                 "json": self._json(folder, "caption", data)}  # fmt: skip
        note = ood_warning("the image", result.ood_score, result.is_ood, captioner.ood)
        return Answer(result.caption, files, data, [note] if note else [])

    def speak(self, text: str | None, vocoder: str | None) -> Answer:
        from synesthesia.viz.tts import plot_speech

        text = check_text(text)
        name, tts = self._voice(vocoder)
        with self._lock:
            speech = tts(text)
            fig = plot_speech(speech, hop_seconds=tts.audio_config.hop_length / tts.sample_rate,
                              reduction_factor=tts.acoustic_model.reduction_factor)  # fmt: skip
        folder = self._folder()
        data = {"text": text, "vocoder": name, "sentences": speech.sentences,
                "seconds": round(speech.duration, 3), "sample_rate": speech.sample_rate,
                "stopped": speech.stopped}  # fmt: skip
        files = {"wav": self._wav(folder, "speech", speech.waveform, speech.sample_rate),
                 "speech": self._png(folder, "speech", fig),
                 "json": self._json(folder, "speech", data)}  # fmt: skip
        cut = sum(not s for s in speech.stopped)
        notes = [f"{cut} of {len(speech.stopped)} sentences reached the decoder step limit "
                 "without a stop token"] if cut else []  # fmt: skip
        return Answer(f"{speech.duration:.2f} s of speech ({name})", files, data, notes)

    def audio(self, clip: str | None) -> Answer:
        import synesthesia.functional as AF
        from synesthesia.viz.audio import plot_representations

        waveform, rate = read_clip(clip, self.workdir)
        settings = dict(n_fft=1024, hop_length=256, win_length=1024, window="hann",
                        center=True, pad_mode="reflect")  # fmt: skip
        if waveform.numel() <= settings["n_fft"] // 2:
            raise ParameterError(f"the clip has {waveform.numel()} samples; at least "
                                 f"{settings['n_fft'] // 2 + 1} are needed")  # fmt: skip
        with self._lock:
            fig = plot_representations(waveform, rate, n_fft=1024, hop_length=256, n_mels=80,
                                       title=Path(clip).name)  # fmt: skip
            magnitude = AF.spectrogram(waveform, power=1.0, **settings)
            rebuilt = AF.griffin_lim(magnitude, n_iter=32, momentum=0.99, init="random", seed=0,
                                     length=waveform.numel(), **settings)  # fmt: skip
            convergence = float(AF.spectral_convergence(
                magnitude, AF.spectrogram(rebuilt, power=1.0, **settings)))  # fmt: skip
        folder = self._folder()
        data = {"seconds": round(waveform.numel() / rate, 3), "sample_rate": rate,
                "griffin_lim": {"n_iter": 32, "momentum": 0.99,
                                "spectral_convergence": round(convergence, 4)}}  # fmt: skip
        files = {"representations": self._png(folder, "representations", fig),
                 "wav": self._wav(folder, "griffin_lim", rebuilt, rate),
                 "json": self._json(folder, "audio", data)}  # fmt: skip
        return Answer(f"Griffin-Lim from the magnitude alone: spectral convergence "
                      f"{convergence:.3f} (0 = identical)", files, data)  # fmt: skip

    def vocode(self, clip: str | None, vocoder: str | None) -> Answer:
        from synesthesia.io.audio import resample
        from synesthesia.pipelines.vocoder import log_mel
        from synesthesia.viz.audio import plot_log_mels

        waveform, rate = read_clip(clip, self.workdir)
        name, tts = self._voice(vocoder)
        config = tts.audio_config
        waveform = resample(waveform, orig_sample_rate=rate, target_sample_rate=config.sample_rate)
        if waveform.numel() <= config.n_fft // 2:
            raise ParameterError(f"the clip is {waveform.numel() / config.sample_rate:.3f} s; "
                                 "too short to analyse")  # fmt: skip
        with self._lock:
            mel = log_mel(waveform, config)
            rebuilt = tts.vocode([mel])[0]
            fig = plot_log_mels({"your clip": mel, f"rebuilt ({name})": log_mel(rebuilt, config)},
                                hop_seconds=config.hop_length / config.sample_rate)  # fmt: skip
        folder = self._folder()
        data = {"vocoder": name, "sample_rate": config.sample_rate, "n_mels": config.n_mels,
                "frames": int(mel.shape[-1])}  # fmt: skip
        files = {"wav": self._wav(folder, f"vocoded_{name.replace('/', '_')}", rebuilt,
                                  config.sample_rate),
                 "mels": self._png(folder, "log_mels", fig),
                 "json": self._json(folder, "vocoder", data)}  # fmt: skip
        return Answer(f"{config.n_mels}-band log-mel → {name}", files, data)

    def scene(self, clip: str | None) -> Answer:
        from synesthesia.io.audio import resample
        from synesthesia.metrics.ood import ood_warning
        from synesthesia.viz.scene import plot_scene_probabilities

        waveform, rate = read_clip(clip, self.workdir)
        classifier = self.chain.scene
        heard = resample(waveform, orig_sample_rate=rate, target_sample_rate=classifier.sample_rate)
        shortest = classifier.model.min_length / classifier.sample_rate
        if heard.numel() < classifier.model.min_length:
            raise ParameterError(f"the clip is {waveform.numel() / rate:.3f} s; the scene model "
                                 f"needs at least {shortest:.3f} s")  # fmt: skip
        with self._lock:
            result = classifier(heard[None])[0]
        note = ood_warning("the clip", result.ood_score, result.is_ood, classifier.ood)
        data = {"probabilities": {k: round(v, 4) for k, v in result.top()},
                "ood_score": result.ood_score, "is_ood": result.is_ood}  # fmt: skip
        folder = self._folder()
        files = {"scene": self._png(folder, "scene", plot_scene_probabilities(
                     dict(result.top()), title="scene probabilities", warning=note)),
                 "json": self._json(folder, "scene", data)}  # fmt: skip
        best, p = result.top(1)[0]
        return Answer(f"{best} ({p:.2f})", files, data, [note] if note else [])

    def retrieve(self, clip: str | None, gallery: list[str] | None = None) -> Answer:
        from synesthesia.metrics.ood import ood_warning
        from synesthesia.viz.retrieval import plot_retrieval_grid

        waveform, rate = read_clip(clip, self.workdir)
        chain, retriever = self.chain, self.chain.retriever
        with self._lock:
            if gallery:
                if len(gallery) > MAX_GALLERY_IMAGES:
                    raise ParameterError(f"{len(gallery)} gallery images; at most "
                                         f"{MAX_GALLERY_IMAGES}")  # fmt: skip
                mode = "L" if retriever.model.image_in_channels == 1 else "RGB"
                images = [read_picture(p, self.workdir, mode=mode) for p in gallery]
                names = [Path(p).name for p in gallery]
                embeddings = torch.cat([retriever.model.encode_image(retriever.prepare_image(i))
                                        for i in images]).detach()  # fmt: skip
            else:
                images, embeddings = chain.gallery_images, chain.gallery_embeddings
                names = [p.name for p in chain.gallery]
            audio, lengths = retriever.prepare_audio(waveform, rate)
            with torch.no_grad():
                query = retriever.model.encode_audio(audio, lengths)[0]
            ranking = retriever.rank(query, embeddings, names, k=min(5, len(names)))
            flags = retriever.audio_ood(audio, lengths)
            shown = audio[0] if retriever.model.audio_input != "waveform" else \
                retriever.log_mel(audio, lengths)[0][0]  # fmt: skip
            fig = plot_retrieval_grid(shown, [images[i] for i in ranking.indices],
                                      scores=ranking.scores, names=ranking.names,
                                      query_kind="audio", query_name=Path(clip).name)  # fmt: skip
        score = None if flags is None else float(flags[0][0])
        is_ood = None if flags is None else bool(flags[1][0])
        note = ood_warning("the clip", score, is_ood, retriever.ood)
        data = {"ranking": [{"image": n, "cosine": round(s, 4)}
                            for n, s in zip(ranking.names, ranking.scores)],
                "ood_score": score, "is_ood": is_ood}  # fmt: skip
        folder = self._folder()
        files = {"grid": self._png(folder, "retrieval", fig),
                 "json": self._json(folder, "retrieval", data)}  # fmt: skip
        return Answer(f"best match: {ranking.names[0]} ({ranking.scores[0]:.2f})", files, data,
                      [note] if note else [])  # fmt: skip

    def face(self, clip: str | None) -> Answer:
        """A voice → the face it suggests (Speech2Face)."""
        from synesthesia.io.audio import resample

        pipeline = self.chain.face
        if pipeline is None:
            raise ParameterError(
                "no Speech2Face model is loaded: train one with `synesthesia face train` and "
                "start the app with `synesthesia serve --face OUT/model`"
            )
        waveform, rate = read_clip(clip, self.workdir)
        voice = resample(waveform, orig_sample_rate=rate, target_sample_rate=pipeline.sample_rate)
        minimum = pipeline.model.voice_encoder.min_length
        if voice.numel() < minimum:
            needed = minimum / pipeline.sample_rate
            raise ParameterError(f"the clip is {waveform.numel() / rate:.2f} s; the face model "
                                 f"needs at least {needed:.2f} s")  # fmt: skip
        with self._lock:
            prediction = pipeline(voice[None])[0]
        folder = self._folder()
        data = {"attributes": prediction.attributes}
        files = {"face": pipeline.save_face(prediction.face, folder / "face.png", scale=4),
                 "json": self._json(folder, "face", data)}  # fmt: skip
        shown = ", ".join(f"{k}: {v}" for k, v in prediction.attributes.items())
        return Answer(shown or "a face", files, data)

    def generate(self, prompt: str | None, max_new_tokens: int = 200,
                 temperature: float = 0.8, seed: int = 0) -> Answer:  # fmt: skip
        if self.lm is None:
            raise ParameterError(
                "no language model is loaded: train one with `synesthesia lm train --text "
                "FILE --out runs/lm` and start the app with `synesthesia serve --lm "
                "runs/lm/model`"
            )
        check_text(prompt, what="prompt")  # the prompt itself is kept as typed (spaces count)
        tokens = int(max_new_tokens)
        if not 1 <= tokens <= 2000:
            raise ParameterError(f"max new tokens {max_new_tokens!r} must be between 1 and 2000")
        if not 0 <= float(temperature) <= 5:
            raise ParameterError(f"temperature {temperature!r} must be between 0 and 5")
        with self._lock:
            text = self.lm.generate(prompt, max_new_tokens=tokens, temperature=float(temperature),
                                    seed=int(seed))  # fmt: skip
        data = {"prompt": prompt, "text": text, "max_new_tokens": tokens,
                "temperature": float(temperature), "seed": int(seed)}  # fmt: skip
        folder = self._folder()
        return Answer(text, {"json": self._json(folder, "lm", data)}, data)

    def served_file(self, path: str | os.PathLike) -> Path:
        """``path`` when it lies in the app's temporary folder (else a ParameterError)."""
        return inside(path, self.workdir)
