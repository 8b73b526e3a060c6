"""Speech2Face training: face encoder → face decoder → attribute classifier → voice encoder.

The paper's staged design, each stage a :func:`~synesthesia.training.fit` in its own folder:

1. **face** (``out_dir/face``): a :class:`~synesthesia.models.FaceEncoder` learns to classify
   the training identities from their face frames (cross-entropy, random horizontal flips)
   and, when the data name attributes, those too (one head each, weight
   ``data.face_attribute_weight``), so that its feature carries them. Its E-dim feature is the
   face representation everything else uses; it is then frozen.
2. **decoder** (``out_dir/decoder``): a :class:`~synesthesia.models.FaceDecoder` learns to turn
   the frozen encoder's feature of any frame of an identity into that identity's canonical
   face (L1 on pixels; ``data.decoder_feature_weight`` > 0 adds the L1 between the face
   encoder's features of the decoded and the true face).
3. **attributes** (``out_dir/attributes``, only when the data have attributes): an
   :class:`~synesthesia.models.ImageClassifier` over the joint attribute classes, trained on
   the training faces; it later reads attributes off decoded faces (the paper's Face++ check).
4. **voice** (``out_dir/voice``; the ``model`` config section): a
   :class:`~synesthesia.models.VoiceEncoder` regresses the frozen face feature of the
   speaker's canonical face from each clip, with
   :func:`~synesthesia.functional.feature_losses.speech2face_loss` (L1 between L2-normalised
   features + distillation on the frozen face classifier's logits at ``data.temperature``).

The four networks are exported together as one Speech2Face folder (``out_dir/model``) with
the held-out evaluation (``metrics.json``, :mod:`synesthesia.metrics.speech2face`) and the
figure grid (``figure.png``). Held-out identities are never trained on: the data's
``speakers.json`` / ``split`` column names them, else a seeded ``data.test_fraction``.
Validation batches (logged only; every stage exports its last step) come from held-out
speakers.

Data: ``data.root`` (a VoxCeleb-style tree), or ``data.csv`` (an AVSpeech-style list), or
neither: the SYNTHETIC corpus (:func:`~synesthesia.data.speech2face.make_speech2face_corpus`)
is generated into ``data.corpus_dir`` (default ``out_dir/corpus``) unless it is already there.

References:
    Oh et al., "Speech2Face: Learning the Face Behind a Voice", CVPR 2019.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from synesthesia.data.speech2face import (
    FaceVoiceSet,
    collate_clips,
    load_face_voice_list,
    load_face_voice_tree,
    make_speech2face_corpus,
)
from synesthesia.errors import ParameterError
from synesthesia.functional.distillation import distillation_kl_loss
from synesthesia.functional.feature_losses import speech2face_loss
from synesthesia.models.speech2face import Speech2FaceModel
from synesthesia.pipelines.speech2face import Speech2Face
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import fixed_loader, stream_loader
from synesthesia.training.fit import fit
from synesthesia.training.scene import TeacherSystem
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train
from synesthesia.transforms.image import RandomGaussianBlur
from synesthesia.utils import atomic_write_json

__all__ = [
    "SPEECH2FACE_DEFAULTS",
    "SPEECH2FACE_TASK",
    "DecoderSystem",
    "FaceSystem",
    "Speech2FaceResult",
    "VoiceSystem",
    "load_speech2face_data",
    "train_speech2face",
]

log = logging.getLogger(__name__)

#: defaults of the synthetic recipe (configs/speech2face/synthetic.yaml)
SPEECH2FACE_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
SPEECH2FACE_DEFAULTS["out_dir"] = "runs/speech2face"
SPEECH2FACE_DEFAULTS["model"].update(name="voice_encoder_small", kwargs={})
SPEECH2FACE_DEFAULTS["data"] = {
    "root": None,  # a VoxCeleb-style tree (identity/clip.wav + identity/face.jpg)
    "csv": None,  # or an AVSpeech-style list (clip,face[,identity,split])
    "corpus_dir": None,  # the synthetic corpus (default out_dir/corpus) when neither is given
    "max_identities": None,  # synthetic: a random subset of the 432 voices
    "clips_per_identity": 5,
    "frames_per_identity": 3,
    "sample_rate": 16000,
    "image_size": 64,
    "max_seconds": 6.0,
    "test_fraction": 0.15,
    "batch_size": 32,
    "face_model": "face_encoder_small",
    "face_kwargs": {"grid": 4},
    "face_steps": 800,
    "face_lr": 3.0e-3,
    "face_attribute_weight": 1.0,
    "decoder_model": "face_decoder_base",
    "decoder_kwargs": {},
    "decoder_steps": 3000,
    "decoder_lr": 3.0e-3,
    "decoder_feature_weight": 0.0,
    "attribute_kwargs": {"channels": [16, 32, 64, 64]},
    "attribute_steps": 1500,
    "attribute_blur": 2.5,
    "attribute_distill_weight": 1.0,
    "l1_weight": 1.0,
    "distill_weight": 1.0,
    "temperature": 2.0,
    "figure_rows": 8,
}
SPEECH2FACE_DEFAULTS["optim"].update(lr=2.0e-3, weight_decay=1.0e-4, warmup_steps=50)
SPEECH2FACE_DEFAULTS["trainer"].update(
    max_steps=3000, val_check_interval=500, num_sanity_val_steps=0, log_every_n_steps=25
)
SPEECH2FACE_DEFAULTS["checkpoint"].update(monitor="val/loss", mode="min", export="last")

_STAGES = ("face", "decoder", "attributes", "voice")


# -- data -------------------------------------------------------------------------------------
def load_speech2face_data(config: dict[str, Any], data: dict[str, Any]) -> FaceVoiceSet:
    """The clips and faces the ``data`` section names (generating the synthetic corpus)."""
    common = {
        "sample_rate": data["sample_rate"],
        "image_size": data["image_size"],
        "max_seconds": data["max_seconds"],
    }
    if data["root"] is not None and data["csv"] is not None:
        raise ParameterError(
            f"data.root={data['root']!r} and data.csv={data['csv']!r}: give one of them"
        )
    if data["csv"] is not None:
        return load_face_voice_list(data["csv"], **common)
    root = data["root"]
    if root is None:
        root = data["corpus_dir"] or str(Path(config["out_dir"]) / "corpus")
        if not (Path(root) / "speakers.json").is_file():
            log.info("generating the synthetic Speech2Face corpus in %s", root)
            make_speech2face_corpus(
                root,
                clips_per_identity=data["clips_per_identity"],
                frames_per_identity=data["frames_per_identity"],
                sample_rate=data["sample_rate"],
                image_size=data["image_size"],
                test_fraction=data["test_fraction"],
                max_identities=data["max_identities"],
                seed=config["seed"],
            )
    return load_face_voice_tree(root, **common)


class _Sampler:
    """``generator → batch``: ``batch_size`` random rows of ``tensors`` (and, with ``clips``,
    those clips zero-padded into ``waveform`` + ``waveform_lengths``)."""

    def __init__(
        self,
        tensors: dict[str, Tensor],
        *,
        batch_size: int,
        clips: list[Tensor] | None = None,
        flip: str = "",
        blur: float = 0.0,
    ) -> None:
        self.tensors, self.clips, self.batch_size, self.flip = tensors, clips, batch_size, flip
        # one sigma per batch in [0, blur]; below 0.3 px the batch stays sharp
        self.blur = RandomGaussianBlur(max_sigma=float(blur), min_sigma=min(0.3, float(blur)))
        self.size = len(clips) if clips is not None else len(next(iter(tensors.values())))

    def __call__(self, generator: torch.Generator) -> dict[str, Tensor]:
        index = torch.randint(0, self.size, (self.batch_size,), generator=generator)
        return self.rows(index, generator)

    def rows(self, index: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        batch = {k: v[index] for k, v in self.tensors.items()}
        if self.clips is not None:
            batch["waveform"], batch["waveform_lengths"] = collate_clips(
                [self.clips[i] for i in index.tolist()]
            )
        if self.flip and generator is not None:
            flip = torch.rand(len(index), generator=generator) < 0.5
            images = batch[self.flip]
            batch[self.flip] = torch.where(flip[:, None, None, None], images.flip(-1), images)
            batch[self.flip] = self.blur(batch[self.flip], generator=generator)
        return batch


class _DataModule(L.LightningDataModule):
    """Seeded random training batches; one fixed validation batch of held-out rows."""

    def __init__(self, train: _Sampler, val: _Sampler, *, seed: int, val_size: int = 64) -> None:
        super().__init__()
        self.train_sampler, self.val_sampler, self.seed = train, val, seed
        generator = torch.Generator().manual_seed(seed)
        count = min(val_size, val.size)
        self.val_batch = val.rows(torch.randperm(val.size, generator=generator)[:count])

    def train_dataloader(self) -> DataLoader:
        return stream_loader(self.train_sampler, seed=self.seed, trainer=self.trainer)

    def val_dataloader(self) -> DataLoader:
        return fixed_loader([self.val_batch])


# -- systems ----------------------------------------------------------------------------------
class FaceSystem(ModelSystem):
    """Identity cross-entropy of a face encoder; logs ``acc``. When the encoder has attribute
    heads and the batch holds ``attributes`` (B, A) value indices (-1: unknown), adds
    ``attribute_weight`` × the mean over attributes of their cross-entropy (logs
    ``attribute_acc``)."""

    def __init__(self, *, attribute_weight: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.attribute_weight = float(attribute_weight)

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        features, logits = self.model(batch["image"])
        accuracy = (logits.argmax(-1) == batch["label"]).float().mean()
        loss = torch.nn.functional.cross_entropy(logits, batch["label"])
        parts = {"acc": accuracy}
        if self.attribute_weight > 0 and "attributes" in batch and self.model.attribute_heads:
            targets = batch["attributes"]  # (B, A)
            heads = self.model.classify_attributes(features)
            known = targets >= 0
            terms = [  # an attribute unknown for the whole batch adds nothing (not a NaN)
                torch.nn.functional.cross_entropy(head, targets[:, a], ignore_index=-1)
                for a, head in enumerate(heads)
                if known[:, a].any()
            ]
            if terms:
                hits = torch.stack([h.argmax(-1) == targets[:, a] for a, h in enumerate(heads)], 1)
                parts["attribute_ce"] = torch.stack(terms).mean()
                parts["attribute_acc"] = (hits & known).sum() / known.sum()
                loss = loss + self.attribute_weight * parts["attribute_ce"]
        return loss, parts


class DecoderSystem(ModelSystem):
    """L1 between decoded and canonical faces (+ ``feature_weight`` × L1 of the frozen face
    encoder's features of the two, after :meth:`attach_face_encoder`)."""

    def __init__(self, *, feature_weight: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.feature_weight = float(feature_weight)
        self.face_encoder: Any = None

    def attach_face_encoder(self, encoder: Any) -> None:
        """The frozen face encoder of the feature term (kept in eval mode)."""
        self.face_encoder = encoder.eval().requires_grad_(False)

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        faces = self.model(batch["features"])
        pixel = (faces - batch["target"]).abs().mean()
        if self.feature_weight > 0 and self.face_encoder is not None:
            self.face_encoder.eval()
            feature = (self.face_encoder.features(faces) - batch["features"]).abs().mean()
            return pixel + self.feature_weight * feature, {"pixel_l1": pixel, "feature_l1": feature}
        return pixel, {"pixel_l1": pixel}


class VoiceSystem(ModelSystem):
    """The voice encoder's :func:`speech2face_loss` against frozen face features and logits.

    Args:
        l1_weight: weight of the normalised-feature L1.
        distill_weight: weight of the distillation term.
        temperature: distillation temperature.
        attribute_distill_weight: weight of the distillation on the face encoder's attribute
            heads (mean over heads; needs heads passed to :meth:`attach_face_classifier`).
        **kwargs: :class:`ModelSystem` arguments.
    """

    def __init__(
        self,
        *,
        l1_weight: float = 1.0,
        distill_weight: float = 1.0,
        temperature: float = 2.0,
        attribute_distill_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.l1_weight, self.distill_weight = float(l1_weight), float(distill_weight)
        self.attribute_distill_weight = float(attribute_distill_weight)
        self.temperature = float(temperature)
        self.face_classifier: Any = None

    def attach_face_classifier(
        self, classifier: torch.nn.Linear, attribute_heads: Sequence[torch.nn.Linear] = ()
    ) -> None:
        """The frozen face classifier that gives the distillation logits (and the face
        encoder's attribute heads, distilled with weight ``attribute_distill_weight``): their
        weights and biases are copied into buffers (saved in checkpoints, never trained)."""
        self.register_buffer("classifier_weight", classifier.weight.detach().clone())
        self.register_buffer("classifier_bias", classifier.bias.detach().clone())
        self.face_classifier = self._classify
        self.num_attribute_heads = len(attribute_heads)
        for i, head in enumerate(attribute_heads):
            self.register_buffer(f"attribute_weight_{i}", head.weight.detach().clone())
            self.register_buffer(f"attribute_bias_{i}", head.bias.detach().clone())

    def _attribute_logits(self, features: Tensor) -> list[Tensor]:
        return [
            torch.nn.functional.linear(
                features,
                getattr(self, f"attribute_weight_{i}"),
                getattr(self, f"attribute_bias_{i}"),
            )
            for i in range(getattr(self, "num_attribute_heads", 0))
        ]

    def _classify(self, features: Tensor) -> Tensor:
        return torch.nn.functional.linear(features, self.classifier_weight, self.classifier_bias)

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        predicted = self.model(batch["waveform"], batch["waveform_lengths"])
        logits = target_logits = None
        if self.distill_weight > 0:
            if self.face_classifier is None:
                raise ParameterError("distill_weight > 0: call attach_face_classifier first")
            logits, target_logits = self.face_classifier(predicted), batch["target_logits"]
        loss, parts = speech2face_loss(
            predicted,
            batch["target"],
            predicted_logits=logits,
            target_logits=target_logits,
            l1_weight=self.l1_weight,
            distill_weight=self.distill_weight,
            temperature=self.temperature,
        )
        heads = self._attribute_logits(predicted)
        if heads and self.attribute_distill_weight > 0:
            targets = self._attribute_logits(batch["target"])
            parts["attribute_distill"] = torch.stack(
                [
                    distillation_kl_loss(p, t, temperature=self.temperature)
                    for p, t in zip(heads, targets)
                ]
            ).mean()
            loss = loss + self.attribute_distill_weight * parts["attribute_distill"]
        cosine = torch.nn.functional.cosine_similarity(predicted, batch["target"], dim=-1).mean()
        return loss, {**parts, "cosine": cosine}


# -- the run ----------------------------------------------------------------------------------
@torch.no_grad()
def _batched(fn: Any, x: Tensor, batch_size: int = 128) -> Tensor:
    return torch.cat([fn(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def _stage_config(config: dict[str, Any], name: str, steps: int | None, lr: float | None) -> dict:
    stage = copy.deepcopy(config)
    stage["out_dir"] = str(Path(config["out_dir"]) / name)
    if steps is not None:
        stage["trainer"]["max_steps"] = steps
        interval = config["trainer"]["val_check_interval"] or steps
        stage["trainer"]["val_check_interval"] = min(steps, interval)
    if lr is not None:
        stage["optim"]["lr"] = lr
    return stage


def _stages(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The configs of the fits (their resume checkpoints are checked first)."""
    return [_stage_config(config, name, None, None) for name in _STAGES]


def _check_data(data: dict[str, Any]) -> None:
    for name in ("face_steps", "decoder_steps", "attribute_steps", "batch_size", "figure_rows"):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"data.{name}={value!r} must be a positive integer")
    for name in (
        "l1_weight",
        "distill_weight",
        "decoder_feature_weight",
        "face_attribute_weight",
        "attribute_blur",
        "attribute_distill_weight",
    ):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ParameterError(f"data.{name}={value!r} must be a non-negative number")
    if data["l1_weight"] == 0 and data["distill_weight"] == 0:
        raise ParameterError("data.l1_weight=0 and data.distill_weight=0: one must be positive")
    temperature = data["temperature"]
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not temperature > 0
    ):
        raise ParameterError(f"data.temperature={temperature!r} must be a positive number")


@dataclass
class Speech2FaceResult:
    """Scores of a :func:`train_speech2face` run (also in ``out_dir/model/metrics.json``)."""

    model_dir: Path
    metrics: dict[str, Any]
    figure: Path


def _face_frames(train: FaceVoiceSet) -> tuple[Tensor, Tensor]:
    """Training and validation frame indices: an identity with 2+ frames gives its last
    frame to validation (with one frame each, validation repeats training frames)."""
    last = torch.zeros(len(train.faces), dtype=torch.bool)
    for i in range(len(train.identities)):
        frames = torch.nonzero(train.face_identity == i).flatten()
        if len(frames) > 1:
            last[frames[-1]] = True
    if not last.any():
        everything = torch.arange(len(train.faces))
        return everything, everything
    return torch.nonzero(~last).flatten(), torch.nonzero(last).flatten()


def _run(config: dict[str, Any], data: dict[str, Any], callbacks: Sequence[Any]) -> Any:
    """face → decoder → attributes → voice → evaluation (see the module docstring)."""
    _check_data(data)
    everything = load_speech2face_data(config, data)
    train_set = everything.split("train", test_fraction=data["test_fraction"], seed=config["seed"])
    test_set = everything.split("test", test_fraction=data["test_fraction"], seed=config["seed"])
    log.info(
        "speech2face data: %d training speakers (%d clips), %d held-out speakers (%d clips)",
        len(train_set.identities),
        len(train_set),
        len(test_set.identities),
        len(test_set),
    )
    seed, batch_size = config["seed"], data["batch_size"]
    callbacks = list(callbacks)

    # 1. face encoder: an identity (+ attribute) classifier on the training faces
    fit_frames, val_frames = _face_frames(train_set)
    train_attributes = train_set.attribute_labels()
    face_attributes = (
        train_attributes is not None
        and data["face_attribute_weight"] > 0
        and bool((train_attributes >= 0).any())
    )
    face_kwargs = {"num_classes": len(train_set.identities), **data["face_kwargs"]}
    if face_attributes:
        face_kwargs["attribute_classes"] = [len(v) for v in train_set.attribute_values.values()]
    L.seed_everything(seed, workers=True, verbose=False)
    face_system = FaceSystem(
        model_name=data["face_model"],
        model_kwargs=face_kwargs,
        optim=_stage_config(config, "face", None, data["face_lr"])["optim"],
        attribute_weight=data["face_attribute_weight"] if face_attributes else 0.0,
    )
    faces, labels = train_set.faces, train_set.face_identity

    def face_rows(frames: Tensor) -> dict[str, Tensor]:
        rows = {"image": faces[frames], "label": labels[frames]}
        if face_attributes:
            rows["attributes"] = train_attributes[labels[frames]]
        return rows

    face_data = _DataModule(
        _Sampler(face_rows(fit_frames), batch_size=batch_size, flip="image"),
        _Sampler(face_rows(val_frames), batch_size=batch_size),
        seed=seed,
    )
    fit(
        face_system,
        face_data,
        _stage_config(config, "face", data["face_steps"], data["face_lr"]),
        callbacks=callbacks,
    )
    face_encoder = face_system.model.cpu().eval()

    # 2. face decoder on the frozen features: any frame of an identity → its canonical face
    def decoder_rows(part: FaceVoiceSet) -> dict[str, Tensor]:
        return {
            "features": _batched(face_encoder.features, part.faces),
            "target": part.faces[part.canonical[part.face_identity]],
        }

    L.seed_everything(seed + 1, workers=True, verbose=False)
    decoder_system = DecoderSystem(
        model_name=data["decoder_model"],
        model_kwargs={"embedding_dim": face_encoder.embedding_dim, **data["decoder_kwargs"]},
        optim=_stage_config(config, "decoder", None, data["decoder_lr"])["optim"],
        feature_weight=data["decoder_feature_weight"],
    )
    if data["decoder_feature_weight"] > 0:
        decoder_system.attach_face_encoder(copy.deepcopy(face_encoder))
    decoder_data = _DataModule(
        _Sampler(decoder_rows(train_set), batch_size=batch_size),
        _Sampler(decoder_rows(test_set), batch_size=batch_size),
        seed=seed + 1,
    )
    fit(
        decoder_system,
        decoder_data,
        _stage_config(config, "decoder", data["decoder_steps"], data["decoder_lr"]),
        callbacks=callbacks,
    )
    decoder = decoder_system.model.cpu().eval()

    # 3. attribute classifier on faces (only when the data have attributes)
    attributes = train_set.attribute_values or None
    bundle = (
        Speech2FaceModel(
            voice_encoder={"embedding_dim": face_encoder.embedding_dim},  # a stand-in, for now
            face_encoder=face_encoder.get_config(),
            face_decoder=decoder.get_config(),
            attributes=attributes,
            attribute_classifier=data["attribute_kwargs"],
        )
        if attributes
        else None
    )
    attribute_model = None
    if bundle is not None and train_attributes is not None and bool((train_attributes >= 0).all()):
        test_attributes = test_set.attribute_labels()
        L.seed_everything(seed + 2, workers=True, verbose=False)
        joint = bundle.attribute_classifier.num_classes
        attribute_system = TeacherSystem(
            model_name="image_classifier_tiny",
            model_kwargs={**bundle.attribute_classifier.get_config(), "num_classes": joint},
            optim=_stage_config(config, "attributes", None, data["face_lr"])["optim"],
        )
        attribute_data = _DataModule(
            _Sampler(
                {
                    "image": train_set.faces,
                    "label": bundle.joint_attribute_index(
                        train_attributes[train_set.face_identity]
                    ),
                },
                batch_size=batch_size,
                flip="image",
                blur=data["attribute_blur"],
            ),
            _Sampler(
                {
                    "image": test_set.faces,
                    "label": bundle.joint_attribute_index(test_attributes[test_set.face_identity]),
                },
                batch_size=batch_size,
            ),
            seed=seed + 2,
        )
        fit(
            attribute_system,
            attribute_data,
            _stage_config(config, "attributes", data["attribute_steps"], data["face_lr"]),
            callbacks=callbacks,
        )
        attribute_model = attribute_system.model.cpu().eval()

    # 4. voice encoder: each clip → the frozen feature (and logits) of its speaker's face
    def voice_rows(part: FaceVoiceSet) -> tuple[dict[str, Tensor], list[Tensor]]:
        targets = _batched(face_encoder.features, part.faces[part.canonical])
        target = targets[part.clip_identity]
        return {
            "target": target,
            "target_logits": _batched(face_encoder.classifier, target),
        }, part.clips

    voice_kwargs = {
        "embedding_dim": face_encoder.embedding_dim,
        **config["model"]["kwargs"],
    }
    L.seed_everything(seed + 3, workers=True, verbose=False)
    voice_system = VoiceSystem(
        model_name=config["model"]["name"],
        model_kwargs=voice_kwargs,
        optim=config["optim"],
        l1_weight=data["l1_weight"],
        distill_weight=data["distill_weight"],
        temperature=data["temperature"],
        attribute_distill_weight=data["attribute_distill_weight"],
    )
    if voice_system.model.sample_rate != everything.sample_rate:
        raise ParameterError(
            f"model.kwargs audio_config.sample_rate={voice_system.model.sample_rate} must equal "
            f"data.sample_rate={everything.sample_rate}"
        )
    voice_system.attach_face_classifier(
        face_encoder.classifier, attribute_heads=list(face_encoder.attribute_heads)
    )
    train_rows, train_clips = voice_rows(train_set)
    test_rows, test_clips = voice_rows(test_set)
    voice_data = _DataModule(
        _Sampler(train_rows, clips=train_clips, batch_size=batch_size),
        _Sampler(test_rows, clips=test_clips, batch_size=batch_size),
        seed=seed + 3,
    )
    fit(voice_system, voice_data, _stage_config(config, "voice", None, None), callbacks=callbacks)
    voice_encoder = voice_system.model.cpu().eval()

    # the bundle, its evaluation on held-out speakers and the figure grid
    model = Speech2FaceModel(
        voice_encoder=voice_encoder.get_config(),
        face_encoder=face_encoder.get_config(),
        face_decoder=decoder.get_config(),
        attributes=attributes if attribute_model is not None else None,
        attribute_classifier=data["attribute_kwargs"],
    )
    model.voice_encoder.load_state_dict(voice_encoder.state_dict())
    model.face_encoder.load_state_dict(face_encoder.state_dict())
    model.face_decoder.load_state_dict(decoder.state_dict())
    if attribute_model is not None:
        model.attribute_classifier.load_state_dict(attribute_model.state_dict())
    pipeline = Speech2Face(model)
    metrics = pipeline.evaluate(test_set, train_set)
    metrics["train_speakers"] = len(train_set.identities)
    metrics["synthetic"] = data["root"] is None and data["csv"] is None
    figure = pipeline.figure(test_set, num_rows=data["figure_rows"])
    out_dir = Path(config["out_dir"])
    figure_path = out_dir / "figure.png"
    figure.savefig(figure_path, dpi=100)
    model_dir = pipeline.save_pretrained(
        out_dir / "model",
        extras={"metrics.json": metrics, "figure.png": figure_path.read_bytes()},
    )
    atomic_write_json(out_dir / "metrics.json", metrics)
    return Speech2FaceResult(model_dir=Path(model_dir), metrics=metrics, figure=figure_path)


#: the Speech2Face task (``synesthesia face train``; pipeline: :class:`Speech2Face`): four
#: fits and an evaluation, so it gives ``run`` instead of one data module and System
SPEECH2FACE_TASK = Task(
    name="face", defaults=SPEECH2FACE_DEFAULTS, pipeline=Speech2Face, stages=_stages, run=_run
)


def train_speech2face(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> Any:
    """face → decoder → attributes → voice → evaluation as ``config`` says
    (:data:`SPEECH2FACE_TASK` through :func:`~synesthesia.training.task.train`)."""
    return train(SPEECH2FACE_TASK, config, callbacks=callbacks)
