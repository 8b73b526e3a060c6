"""Demo section "Scene recognition by sound": the shipped SoundNet-style student (taught only
by a visual teacher's posteriors on synthetic picture–sound pairs) recognises held-out
SYNTHETIC scene sounds through its linear probe; beside it, the same probe on a randomly
initialised network of the same architecture. Runs in seconds on a CPU (no training)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from synesthesia.viz.report import Report

log = logging.getLogger(__name__)

MODEL_NAME = "scene_synthetic"
TEST_PER_CLASS = 30


def run(report: Report, *, workdir: Path, seed: int) -> None:
    """Fill ``report`` with the probe accuracies, a confusion/PCA figure and example clips."""
    from synesthesia.data.synthetic_scenes import make_synthetic_scenes
    from synesthesia.models import create_model
    from synesthesia.pipelines.pretrained import pretrained_path
    from synesthesia.pipelines.scene import SceneClassifier
    from synesthesia.viz.scene import plot_scene_summary

    start = time.perf_counter()
    student = SceneClassifier.from_pretrained(pretrained_path(MODEL_NAME)).model
    common = {
        "sample_rate": student.sample_rate,
        "cache_dir": Path(workdir) / "synthetic_scenes",
    }
    test = make_synthetic_scenes("test", num_per_class=TEST_PER_CLASS, seed=seed + 1, **common)
    probe_train = make_synthetic_scenes("probe_train", **common)
    with torch.no_grad():
        predicted = student.classify(test.waveform).argmax(-1)
        student_features = student.features(test.waveform)
    accuracy = float((predicted == test.labels).float().mean())
    k = len(student.class_names)
    confusion = torch.zeros(k, k, dtype=torch.long)
    confusion.index_put_((test.labels, predicted), torch.ones_like(predicted), accumulate=True)
    torch.manual_seed(seed)
    config = student.get_config()
    untrained = create_model("scene_student_small", **config).eval()
    with torch.no_grad():
        untrained.probe.fit(untrained.features(probe_train.waveform), probe_train.labels)
        random_accuracy = float(
            (untrained.classify(test.waveform).argmax(-1) == test.labels).float().mean()
        )
        random_features = untrained.features(test.waveform)
    report.text(
        "This data set is synthetic: procedural pictures and ambient sounds of "
        + ", ".join(student.class_names)
        + ". The student (a SoundNet-style waveform CNN) never saw an audio label: it was "
        "trained to match a picture classifier's posteriors on unlabeled picture–sound pairs; "
        f"a linear probe was then fitted on {len(probe_train) // k} labelled clips per class."
    )
    report.table(
        [
            ["distilled student + linear probe", f"{accuracy:.3f}"],
            ["same network, random init + linear probe", f"{random_accuracy:.3f}"],
            ["chance", f"{1 / k:.3f}"],
        ],
        header=[f"held-out clips ({len(test)}, fresh seed)", "accuracy"],
    )
    fig = plot_scene_summary(
        confusion.tolist(),
        student.class_names,
        {
            "distilled student features (PCA)": (student_features, test.labels),
            "random-init features (PCA)": (random_features, test.labels),
        },
    )
    report.figure(fig, caption="Probe confusion matrix and PCA maps of the clip features.")
    import matplotlib.pyplot as plt

    plt.close(fig)
    for index in (0, TEST_PER_CLASS * (k - 1)):
        name = student.class_names[int(test.labels[index])]
        guess = student.class_names[int(predicted[index])]
        report.audio(test.waveform[index], test.sample_rate, caption=f"{name} (predicted {guess})")
    log.info("scene demo: %.1f s", time.perf_counter() - start)
