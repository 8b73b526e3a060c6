"""Scene recognition by sound, the SoundNet way, on the built-in synthetic scenes.

Three stages, each on its own split of :func:`synesthesia.data.make_synthetic_scenes`:

1. **Teacher**: an :class:`~synesthesia.models.ImageClassifier` learns the scene classes from
   labelled images (``teacher_train``), with cross-entropy (random horizontal flips).
2. **Student**: a :class:`~synesthesia.models.SceneStudent` (SoundNet-style waveform CNN) sees
   only the sounds of the ``unlabeled`` image–sound pairs and is trained by
   :func:`~synesthesia.functional.distillation_kl_loss` to match the frozen teacher's softened
   posteriors of the paired images. No audio label is used.
3. **Probe**: a :class:`~synesthesia.nn.LinearProbe` (logistic regression, L-BFGS) is fitted on
   the frozen student's features of ``probe_per_class`` labelled clips per class
   (``probe_train``) and scored on the ``test`` clips — beside the same probe on a randomly
   initialised student of the same architecture (the baseline).

Both networks train through :func:`~synesthesia.training.fit` (out_dir/teacher and
out_dir/student); the student with its probe is exported to ``out_dir/model`` and the scores
to ``out_dir/metrics.json``. The ``model`` config section is the student; the teacher, the
data and the probe are set in ``data`` (:data:`SCENE_DEFAULTS`).

``data.augment`` (default null: no augmentation) is a list of waveform augmentation specs
(:func:`synesthesia.transforms.augment.build_augmentation`) applied to the student's training
clips per batch, with the batch's own generator, so batch ``j`` still depends only on
``(seed, j)`` and a resumed run sees the same augmented batches; the teacher's images and
logits, the validation clips and the probe's clips stay clean.

References:
    Aytar, Vondrick & Torralba, "SoundNet: Learning Sound Representations from Unlabeled
    Video", NeurIPS 2016; Hinton, Vinyals & Dean 2015 (distillation at temperature T).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader

from synesthesia.data.synthetic_scenes import SCENE_CLASSES, make_synthetic_scenes
from synesthesia.errors import ParameterError
from synesthesia.functional.distillation import distillation_kl_loss
from synesthesia.models import create_model
from synesthesia.models.scene_student import SceneStudent
from synesthesia.pipelines.scene import SceneClassifier
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import fixed_loader, stream_loader
from synesthesia.training.fit import fit
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train
from synesthesia.utils import atomic_write_json

__all__ = [
    "SCENE_DEFAULTS",
    "SCENE_TASK",
    "SceneResult",
    "StudentSystem",
    "TeacherSystem",
    "probe_accuracy",
    "train_scene",
]

log = logging.getLogger(__name__)

#: defaults of the synthetic-scenes recipe (configs/scene/synthetic.yaml)
SCENE_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
SCENE_DEFAULTS["out_dir"] = "runs/scene"
SCENE_DEFAULTS["model"].update(name="scene_student_small", kwargs={})
SCENE_DEFAULTS["data"] = {
    "sample_rate": 8000,
    "duration": 1.0,
    "image_size": 32,
    "cache_dir": None,
    "teacher_per_class": 100,
    "unlabeled_per_class": 200,
    "probe_per_class": 5,
    "test_per_class": 50,
    "batch_size": 64,
    "temperature": 2.0,
    "teacher_model": "scene_teacher_small",
    "teacher_kwargs": {},
    "teacher_steps": 200,
    "teacher_lr": 3.0e-3,
    "probe_l2": 1.0e-2,
    "augment": None,  # waveform augmentation specs for the student's training clips
}
SCENE_DEFAULTS["optim"].update(lr=3.0e-3, weight_decay=1.0e-4, warmup_steps=30)
SCENE_DEFAULTS["trainer"].update(
    max_steps=400, val_check_interval=100, num_sanity_val_steps=0, log_every_n_steps=10
)
SCENE_DEFAULTS["checkpoint"].update(monitor="val/loss", mode="min", export="last")


class _Sampler:
    """``generator → batch`` of ``batch_size`` random rows of the given tensors.

    ``augment`` (a waveform pipeline ``(x, lengths, generator=...) → (x, lengths)``) is applied
    to ``tensors["waveform"]`` after the rows are drawn, with the same generator; the result is
    clamped to [-1, 1], cut or zero-padded back to the clips' length T, and its valid lengths
    are added as ``waveform_lengths`` (shorter after a speed-up).
    """

    def __init__(
        self,
        tensors: dict[str, Tensor],
        *,
        batch_size: int,
        flip: str = "",
        augment: Any = None,
    ) -> None:
        self.tensors, self.batch_size, self.flip = tensors, batch_size, flip
        self.size = len(next(iter(tensors.values())))
        self.augment = augment

    def __call__(self, generator: torch.Generator) -> dict[str, Tensor]:
        index = torch.randint(0, self.size, (self.batch_size,), generator=generator)
        batch = {k: v[index] for k, v in self.tensors.items()}
        if self.flip:
            flip = torch.rand(self.batch_size, generator=generator) < 0.5
            images = batch[self.flip]
            batch[self.flip] = torch.where(flip[:, None, None, None], images.flip(-1), images)
        if self.augment is not None:
            batch["waveform"], batch["waveform_lengths"] = _augment_waveform(
                self.augment, batch["waveform"], generator
            )
        return batch


def _augment_waveform(
    augment: Any, waveform: Tensor, generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """(B, T) clips → augmented (B, T) clips and their (B,) valid lengths (<= T)."""
    length = waveform.shape[-1]
    lengths = torch.full((waveform.shape[0],), length, dtype=torch.long)
    out, out_lengths = augment(waveform, lengths, generator=generator)
    if out_lengths is None:
        out_lengths = lengths
    out = out.clamp(-1.0, 1.0)
    if out.shape[-1] >= length:
        out = out[..., :length]
    else:
        out = torch.nn.functional.pad(out, (0, length - out.shape[-1]))
    return out.contiguous(), out_lengths.clamp(max=length)


def _build_augment(spec: Any, *, sample_rate: int, seed: int) -> Any:
    """The waveform pipeline of ``data.augment`` (None for null or []); ParameterError for a
    spectrogram-domain entry (the student hears raw waveforms) or a bad spec."""
    if spec is None:
        return None
    if not isinstance(spec, (list, tuple)):
        raise ParameterError(f"data.augment={spec!r} must be a list of augmentation specs or null")
    from synesthesia.transforms.augment_builder import build_augmentation

    try:
        compose = build_augmentation(list(spec), sample_rate=sample_rate, seed=seed)
    except ParameterError as error:
        raise ParameterError(f"data.{error}") from None
    for position, module in enumerate(compose.transforms):
        if module.domain != "waveform":
            raise ParameterError(
                f"data.augment[{position}] name={spec[position]['name']!r} is a spectrogram "
                "augmentation; the scene student hears raw waveforms, so only waveform "
                "augmentations apply (noise, reverb, telephone, speed, pitch, vtlp)"
            )
    return compose.waveform if len(compose.transforms) else None


class _TensorDataModule(L.LightningDataModule):
    """Random training batches of ``train`` tensors; one validation batch of ``val``."""

    def __init__(
        self,
        train: dict[str, Tensor],
        val: dict[str, Tensor],
        *,
        batch_size: int,
        seed: int,
        flip: str = "",
        augment: Any = None,
    ) -> None:
        super().__init__()
        self.train, self.val, self.batch_size, self.seed, self.flip = (
            train,
            val,
            batch_size,
            seed,
            flip,
        )
        self.augment = augment

    def train_dataloader(self) -> DataLoader:
        sampler = _Sampler(
            self.train, batch_size=self.batch_size, flip=self.flip, augment=self.augment
        )
        return stream_loader(sampler, seed=self.seed, trainer=self.trainer)

    def val_dataloader(self) -> DataLoader:
        return fixed_loader([self.val])


class TeacherSystem(ModelSystem):
    """Cross-entropy of an image classifier; logs ``acc`` (train and val)."""

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        logits = self.model(batch["image"])
        accuracy = (logits.argmax(-1) == batch["label"]).float().mean()
        return torch.nn.functional.cross_entropy(logits, batch["label"]), {"acc": accuracy}


class StudentSystem(ModelSystem):
    """KL(teacher ‖ student) at ``temperature`` on waveforms paired with teacher logits.

    Args:
        temperature: distillation temperature T.
        **kwargs: :class:`ModelSystem` arguments.
    """

    def __init__(self, *, temperature: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.temperature = temperature

    def compute_loss(self, batch: dict[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        logits, _ = self.model(batch["waveform"], batch.get("waveform_lengths"))
        loss = distillation_kl_loss(logits, batch["teacher_logits"], temperature=self.temperature)
        agree = (logits.argmax(-1) == batch["teacher_logits"].argmax(-1)).float().mean()
        return loss, {"agree": agree}


@torch.no_grad()
def _batched(fn: Any, x: Tensor, batch_size: int = 256) -> Tensor:
    return torch.cat([fn(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def probe_accuracy(
    student: SceneStudent,
    train_waveform: Tensor,
    train_labels: Tensor,
    test_waveform: Tensor,
    test_labels: Tensor,
    *,
    l2: float = 1e-2,
) -> tuple[float, Tensor]:
    """Fit ``student.probe`` on frozen features of the training clips; score the test clips.

    Returns:
        ``(accuracy, confusion (K, K))`` with rows = true class, columns = predicted.
    """
    student.eval()
    train_features = _batched(student.features, train_waveform)
    student.probe.fit(train_features, train_labels, l2=l2)
    predicted = _batched(student.classify, test_waveform).argmax(-1)
    k = student.probe.num_classes
    confusion = torch.zeros(k, k, dtype=torch.long)
    confusion.index_put_((test_labels, predicted), torch.ones_like(predicted), accumulate=True)
    return float((predicted == test_labels).float().mean()), confusion


@dataclass
class SceneResult:
    """Scores of a :func:`train_scene` run (also written to ``out_dir/metrics.json``)."""

    model_dir: Path
    teacher_accuracy: float
    student_probe_accuracy: float
    random_probe_accuracy: float
    teacher_agreement: float
    confusion: list[list[int]] = field(default_factory=list)
    classes: tuple[str, ...] = SCENE_CLASSES


def _stage_config(config: dict[str, Any], name: str) -> dict[str, Any]:
    stage = copy.deepcopy(config)
    stage["out_dir"] = str(Path(config["out_dir"]) / name)
    return stage


def _stages(config: dict[str, Any]) -> list[dict[str, Any]]:
    """The configs of the two fits (their resume checkpoints are checked first)."""
    return [_stage_config(config, stage) for stage in ("teacher", "student")]


def _run(config: dict[str, Any], data: dict[str, Any], callbacks: Sequence[Any]) -> SceneResult:
    """Teacher → student → probe (``data``: the checked data section with its defaults)."""
    for name in ("teacher_steps", "batch_size", "probe_per_class", "test_per_class"):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ParameterError(f"data.{name}={value!r} must be a positive integer")
    augment = _build_augment(
        data["augment"], sample_rate=data["sample_rate"], seed=config["seed"] + 1
    )  # checked before the (slower) data generation
    common = {
        "sample_rate": data["sample_rate"],
        "duration": data["duration"],
        "image_size": data["image_size"],
        "seed": config["seed"],
        "cache_dir": data["cache_dir"],
    }
    sets = {
        split: make_synthetic_scenes(split, num_per_class=data[f"{key}_per_class"], **common)
        for split, key in (
            ("teacher_train", "teacher"),
            ("unlabeled", "unlabeled"),
            ("probe_train", "probe"),
            ("test", "test"),
        )
    }
    classes = sets["test"].classes
    seed = config["seed"]

    # 1. visual teacher on labelled images
    teacher_config = _stage_config(config, "teacher")
    teacher_config["trainer"]["max_steps"] = data["teacher_steps"]
    teacher_config["trainer"]["val_check_interval"] = min(
        data["teacher_steps"], config["trainer"]["val_check_interval"] or data["teacher_steps"]
    )
    teacher_config["optim"]["lr"] = data["teacher_lr"]
    L.seed_everything(seed, workers=True, verbose=False)
    teacher_system = TeacherSystem(
        model_name=data["teacher_model"],
        model_kwargs={"num_classes": len(classes), **data["teacher_kwargs"]},
        optim=teacher_config["optim"],
    )
    t, v = sets["teacher_train"], sets["test"]
    teacher_data = _TensorDataModule(
        {"image": t.images, "label": t.labels},
        {"image": v.images, "label": v.labels},
        batch_size=data["batch_size"],
        seed=seed,
        flip="image",
    )
    fit(teacher_system, teacher_data, teacher_config, callbacks=list(callbacks))
    teacher = teacher_system.model.cpu().eval()
    teacher_accuracy = float((_batched(teacher, v.images).argmax(-1) == v.labels).float().mean())
    log.info("teacher: test image accuracy %.3f", teacher_accuracy)

    # 2. audio student from the teacher's posteriors on unlabeled pairs (no audio labels)
    u = sets["unlabeled"]
    student_kwargs = {
        "class_names": list(classes),
        "num_teacher_classes": len(classes),
        "sample_rate": data["sample_rate"],
        **config["model"]["kwargs"],
    }
    L.seed_everything(seed + 1, workers=True, verbose=False)
    student_system = StudentSystem(
        model_name=config["model"]["name"],
        model_kwargs=student_kwargs,
        optim=config["optim"],
        temperature=data["temperature"],
    )
    student_data = _TensorDataModule(
        {"waveform": u.waveform, "teacher_logits": _batched(teacher, u.images)},
        {"waveform": v.waveform, "teacher_logits": _batched(teacher, v.images)},
        batch_size=data["batch_size"],
        seed=seed + 1,
        augment=augment,
    )
    fit(student_system, student_data, _stage_config(config, "student"), callbacks=list(callbacks))
    student = student_system.model.cpu().eval()
    agreement = float(
        (
            _batched(lambda w: student(w)[0], v.waveform).argmax(-1)
            == _batched(teacher, v.images).argmax(-1)
        )
        .float()
        .mean()
    )

    # 3. linear probes with few labels: the distilled student vs the same network untrained
    p = sets["probe_train"]
    accuracy, confusion = probe_accuracy(
        student, p.waveform, p.labels, v.waveform, v.labels, l2=data["probe_l2"]
    )
    torch.manual_seed(seed + 2)
    untrained = create_model(config["model"]["name"], **student_kwargs).eval()
    random_accuracy, _ = probe_accuracy(
        untrained, p.waveform, p.labels, v.waveform, v.labels, l2=data["probe_l2"]
    )
    log.info(
        "probe accuracy on held-out clips: distilled student %.3f, random init %.3f",
        accuracy,
        random_accuracy,
    )
    out_dir = Path(config["out_dir"])
    model_dir = SceneClassifier(student).save_pretrained(out_dir / "model")
    result = SceneResult(
        model_dir=Path(model_dir),
        teacher_accuracy=teacher_accuracy,
        student_probe_accuracy=accuracy,
        random_probe_accuracy=random_accuracy,
        teacher_agreement=agreement,
        confusion=confusion.tolist(),
        classes=tuple(classes),
    )
    atomic_write_json(
        out_dir / "metrics.json",
        {
            "teacher_test_accuracy": teacher_accuracy,
            "student_probe_test_accuracy": accuracy,
            "random_init_probe_test_accuracy": random_accuracy,
            "student_teacher_agreement": agreement,
            "probe_labels_per_class": data["probe_per_class"],
            "test_clips": len(v),
            "classes": list(classes),
            "confusion": confusion.tolist(),
        },
    )
    return result


#: the scene task (``synesthesia scene train``; pipeline: :class:`SceneClassifier`): two fits
#: and a probe, so it gives ``run`` instead of one data module and System
SCENE_TASK = Task(
    name="scene", defaults=SCENE_DEFAULTS, pipeline=SceneClassifier, stages=_stages, run=_run
)


def train_scene(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> SceneResult:
    """Teacher → student → probe as ``config`` says (see the module docstring;
    :data:`SCENE_TASK` through :func:`~synesthesia.training.task.train`)."""
    return train(SCENE_TASK, config, callbacks=callbacks)
