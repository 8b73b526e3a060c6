"""Out-of-distribution scores of the shipped models: AUROC table, and (re)fitting the detectors.

For each model (scene_synthetic, caption_digits, embed_digits) this script gathers

* **fit** data — in-distribution inputs the class means / covariance / prototypes are
  estimated on (the model's training generator);
* **calibration** data — held-out in-distribution inputs, disjoint from the evaluation set,
  whose 99th-percentile score becomes the threshold (1 % of such inputs are flagged by design);
* **evaluation** data — the model's held-out in-distribution test set;
* **foreign** sets — inputs unlike the training data (:mod:`synesthesia.data.foreign`),

then prints AUROC (evaluation vs each foreign set) for every score, and the share of each set
above the threshold. The score with the best worst-case AUROC is chosen.

    python benchmarks/ood.py                          # the table for the three shipped models
    python benchmarks/ood.py --fit embed --model DIR  # (re)fit DIR's detector; writes
                                                      # DIR/ood.json, DIR/ood.safetensors and
                                                      # reseals DIR/checksums.json
    python benchmarks/ood.py --fit embed --model DIR --config configs/embed/X.yaml
                                                      # ... with the voices DIR was trained on
    python benchmarks/ood.py --fit all                # refit every shipped model in place

Results: docs/results.md, "Out-of-distribution scores".
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import torch
from torch import Tensor

from synesthesia.data import foreign
from synesthesia.metrics.ood import OODDetector, auroc, fit_class_gaussians
from synesthesia.models.base import write_checksums
from synesthesia.pipelines.pretrained import pretrained_path

log = logging.getLogger("ood")

#: scores tried per model, in order of preference on ties: label -> (score, features read)
SCORES = {
    "scene": {"msp": ("msp", ""), "energy": ("energy", ""), "mahalanobis": ("mahalanobis", "")},
    "caption": {"msp": ("msp", ""), "energy": ("energy", ""), "mahalanobis": ("mahalanobis", "")},
    "embed": {
        "max_cosine": ("max_cosine", "audio_embedding"),
        "energy": ("energy", "audio_embedding"),
        "mahalanobis": ("mahalanobis", "audio_embedding"),
        "mahalanobis (encoder)": ("mahalanobis", "audio_encoder"),
    },
}
SHIPPED = {"scene": "scene_synthetic", "caption": "caption_digits", "embed": "embed_digits"}
#: the training config of a shipped model whose fit and held-out data depend on it
SHIPPED_CONFIG = {"embed": Path(__file__).parent.parent / "configs/embed/spoken_digits_multi.yaml"}
PERCENTILE = 99.0
SHRINKAGE = 0.1
EMBED_TEMPERATURE = 0.1  # energy of cosine-to-prototype logits: -T logsumexp(cos / T)
SENTENCES = (
    "The kettle began to whistle just as the phone rang in the hallway.",
    "Could you fold the towels before you go upstairs?",
    "Our neighbor painted his front door a bright shade of yellow.",
    "Please switch off the lamp when you leave the study.",
    "We walked along the river until the sun went down.",
    "The library closes early on Sundays during the summer.",
)
SPEECH_VOICES = ("en-us", "en-us+f3", "en-us+m3", "en-gb-x-rp", "piper:joe", "flite:slt")


def _batched(fn, *tensors: Tensor, size: int = 64) -> list[Tensor]:
    outs: list[list[Tensor]] = []
    for start in range(0, tensors[0].shape[0], size):
        parts = fn(*(t[start : start + size] for t in tensors))
        parts = parts if isinstance(parts, tuple) else (parts,)
        if not outs:
            outs = [[] for _ in parts]
        for out, part in zip(outs, parts):
            out.append(part)
    return [torch.cat(out) for out in outs]


def _audio_foreign(sample_rate: int, *, speech: tuple[Tensor, Tensor]) -> dict:
    dur = 2.0
    music = foreign.synthetic_music(60, sample_rate=sample_rate, duration=dur, seed=7)
    noise = torch.cat(
        [
            foreign.noise_clips(30, sample_rate=sample_rate, duration=dur, kind="white", seed=8),
            foreign.noise_clips(30, sample_rate=sample_rate, duration=dur, kind="pink", seed=9),
        ]
    )
    clicks = foreign.click_clips(60, sample_rate=sample_rate, duration=dur, seed=10)
    full = torch.full((60,), music.shape[-1])
    return {
        "speech": speech,
        "music": (music, full),
        "noise": (noise, full),
        "clicks": (clicks, full),
    }


# -- per-model data --------------------------------------------------------------------------


def collect_scene(directory: Path) -> dict:
    """fit / calibration / evaluation / foreign inputs (features, logits) of a scene student."""
    from synesthesia.data.synthetic_scenes import make_synthetic_scenes
    from synesthesia.pipelines.scene import SceneClassifier

    classifier = SceneClassifier.from_pretrained(directory)
    rate = classifier.sample_rate

    def run(waveform: Tensor, lengths: Tensor | None = None) -> dict:
        if lengths is None:
            lengths = torch.full((waveform.shape[0],), waveform.shape[-1])
        features, logits = _batched(classifier.features_and_logits, waveform, lengths)
        return {"features": features, "logits": logits}

    def scenes(split: str, seed: int, per_class: dict[float, int | None]) -> tuple:
        """Clips of several durations (features pool over time): (features/logits, labels)."""
        sets = [
            make_synthetic_scenes(split, num_per_class=n, sample_rate=rate, duration=d, seed=seed)
            for d, n in per_class.items()
        ]
        outputs = [run(s.waveform) for s in sets]
        merged = {k: torch.cat([o[k] for o in outputs]) for k in outputs[0]}
        return merged, torch.cat([s.labels for s in sets]), sum(len(s) for s in sets)

    fit, fit_labels, num_fit = scenes("unlabeled", 0, {1.0: None, 2.0: 50, 3.0: 50})
    calibration, _, num_calibration = scenes("test", 1, {1.0: None, 2.0: 25, 3.0: 25})
    evaluation = run(make_synthetic_scenes("test", sample_rate=rate, duration=1.0, seed=0).waveform)
    long = make_synthetic_scenes("test", num_per_class=10, sample_rate=rate, duration=3.0, seed=3)
    speech = foreign.speech_clips(SENTENCES, SPEECH_VOICES, sample_rate=rate)
    data = {
        "fit": {**fit, "labels": fit_labels},
        "calibration": calibration,
        "evaluation": evaluation,
        "extra_in": {"scenes, 3 s clips": run(long.waveform)},
        "foreign": {k: run(*v) for k, v in _audio_foreign(rate, speech=speech).items()},
        "info": {
            "features": "SceneStudent.features (SoundNet encoder output, the probe's input)",
            "logits": "linear-probe logits over the scene classes",
            "fit": f"make_synthetic_scenes('unlabeled', seed=0): {num_fit} clips of 1, 2 and "
            "3 s, class = scene",
            "calibration": f"make_synthetic_scenes('test', seed=1): {num_calibration} clips of "
            "1, 2 and 3 s",
            "evaluation": "make_synthetic_scenes('test', seed=0): 300 clips of 1 s",
        },
    }
    return data


def collect_caption(directory: Path) -> dict:
    """fit / calibration / evaluation / foreign inputs of a digit-strip captioner."""
    from synesthesia.data.digit_strips import make_digit_strips
    from synesthesia.pipelines.captioning import ImageCaptioner

    captioner = ImageCaptioner.from_pretrained(directory)

    def run(images) -> dict:
        batch = captioner.normalize(torch.stack([captioner.load(image) for image in images]))

        def one(chunk: Tensor):
            out = captioner.model.generate(chunk, beam_size=3, max_length=20)
            return captioner.ood_inputs(chunk, out.tokens, out.lengths)

        features, logits, lengths = [], [], []
        for start in range(0, batch.shape[0], 100):
            f, lg, n = one(batch[start : start + 100])
            features.append(f)
            lengths.append(n)
            logits.append(lg)
        width = max(lg.shape[1] for lg in logits)
        logits = [torch.nn.functional.pad(lg, (0, 0, 0, width - lg.shape[1])) for lg in logits]
        return {
            "features": torch.cat(features),
            "logits": torch.cat(logits),
            "lengths": torch.cat(lengths),
        }

    fit = make_digit_strips(2000, split="train", seed=0)
    calibration = make_digit_strips(500, split="test", seed=1)
    evaluation = make_digit_strips(500, split="test", seed=0)
    return {
        "fit": {**run(list(fit.images)), "labels": None},
        "calibration": run(list(calibration.images)),
        "evaluation": run(list(evaluation.images)),
        "extra_in": {},
        "foreign": {
            "photos": run(foreign.foreign_photos()),
            "noise images": run(foreign.noise_images(30)),
        },
        "info": {
            "features": "encoder annotation vectors averaged over the regions",
            "logits": "decoder logits at each generated word (teacher-forced with the "
            "caption; sequence score = mean over words)",
            "fit": "make_digit_strips(2000, split='train', seed=0), one class",
            "calibration": "make_digit_strips(500, split='test', seed=1)",
            "evaluation": "make_digit_strips(500, split='test', seed=0)",
        },
    }


def collect_embed(directory: Path, config: Path | None = None) -> dict:
    """fit / calibration / evaluation / foreign audio features of a dual encoder.

    ``config``: the model's training YAML (``configs/embed/*.yaml``); its ``data.train_voices``,
    ``data.val_voices`` and ``data.variations`` choose the fit and held-out clips (default:
    the built-in voices, 3 variations, as ``configs/embed/spoken_digits.yaml``).
    """
    from synesthesia.data.spoken_digits import make_spoken_digits
    from synesthesia.pipelines.retrieval import AudioImageRetriever

    retriever = AudioImageRetriever.from_pretrained(directory)
    rate = retriever.sample_rate

    model = retriever.model

    def run(waveform: Tensor, lengths: Tensor) -> dict:
        """Audio-tower outputs (what AudioImageRetriever.audio_ood reads) of clips at ``rate``."""

        @torch.no_grad()
        def encode(w: Tensor, n: Tensor) -> tuple[Tensor, Tensor]:
            if model.audio_input == "mel":
                w, n = retriever.log_mel(w, n)
            encoder = model.audio_encoder(w, n)
            return encoder, model.audio_head(encoder)

        encoder, embedding = _batched(encode, waveform, lengths)
        return {"audio_encoder": encoder, "audio_embedding": embedding}

    data_config: dict = {}
    if config is not None:
        import yaml

        data_config = (yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}).get(
            "data", {}
        )
    variations = data_config.get("variations") or 3
    train_voices, val_voices = data_config.get("train_voices"), data_config.get("val_voices")
    common = {"sample_rate": rate, "variations": variations}
    fit = make_spoken_digits("train", voices=train_voices, seed=0, **common)
    calibration = make_spoken_digits("test", voices=val_voices, seed=1, **common)
    evaluation = make_spoken_digits("test", voices=val_voices, seed=0, **common)
    augment = data_config.get("augment")
    fit_waveform, fit_lengths, fit_labels = fit.waveform, fit.waveform_lengths, fit.audio_labels
    cal_waveform, cal_lengths = calibration.waveform, calibration.waveform_lengths
    if augment:
        # A model trained on augmented copies takes noisy, reverberant, telephone and
        # pitch-shifted speech as its own: fit and calibrate on such copies too (one each,
        # beside the clean clips), or every real recording would be "foreign".
        from synesthesia.transforms.augment_builder import build_augmentation

        on_waveform = build_augmentation(list(augment), sample_rate=rate, seed=11).waveform

        def augmented(waveform: Tensor, lengths: Tensor, seed: int) -> tuple[Tensor, Tensor]:
            generator = torch.Generator().manual_seed(seed)
            out, out_lengths = [], []
            for start in range(0, waveform.shape[0], 64):
                w, n = on_waveform(
                    waveform[start : start + 64], lengths[start : start + 64],
                    generator=generator,
                )  # fmt: skip
                out.append(w.clamp(-1.0, 1.0))
                out_lengths.append(n)
            width = max(w.shape[-1] for w in out)
            out = [torch.nn.functional.pad(w, (0, width - w.shape[-1])) for w in out]
            return torch.cat(out), torch.cat(out_lengths)

        def joined(a: Tensor, b: Tensor) -> Tensor:
            width = max(a.shape[-1], b.shape[-1])
            pad = torch.nn.functional.pad
            return torch.cat([pad(a, (0, width - a.shape[-1])), pad(b, (0, width - b.shape[-1]))])

        noisy, noisy_lengths = augmented(fit_waveform, fit_lengths, seed=12)
        fit_waveform = joined(fit_waveform, noisy)
        fit_lengths = torch.cat([fit_lengths, noisy_lengths])
        fit_labels = fit_labels.repeat(2)
        noisy, noisy_lengths = augmented(cal_waveform, cal_lengths, seed=13)
        cal_waveform = joined(cal_waveform, noisy)
        cal_lengths = torch.cat([cal_lengths, noisy_lengths])
    from synesthesia.data.human_digits import human_digit_clips

    human, _ = human_digit_clips()
    extra_in = {}
    if human:
        human_lengths = torch.tensor([len(c) for c in human])
        human_waveform = torch.zeros(len(human), int(human_lengths.max()))
        for row, clip in enumerate(human):
            human_waveform[row, : len(clip)] = torch.from_numpy(clip)
        if rate != 16000:
            from synesthesia.io.audio import resample

            human_waveform = resample(
                human_waveform, orig_sample_rate=16000, target_sample_rate=rate
            )
            human_lengths = human_lengths * rate // 16000
        extra_in["real people's digits"] = (human_waveform, human_lengths)
    piper = make_spoken_digits(
        "test", voices=("piper:joe",), variations=3, sample_rate=rate, seed=0
    )
    words = foreign.speech_clips(foreign.NON_DIGIT_WORDS, SPEECH_VOICES, sample_rate=rate)
    sentences = foreign.speech_clips(SENTENCES, SPEECH_VOICES, sample_rate=rate)
    audio = _audio_foreign(rate, speech=sentences)
    audio = {"words": words, **audio}
    fit_set = {**run(fit_waveform, fit_lengths), "labels": fit_labels}
    return {
        "fit": fit_set,
        "calibration": run(cal_waveform, cal_lengths),
        "evaluation": run(evaluation.waveform, evaluation.waveform_lengths),
        "extra_in": {
            "digits, piper:joe": run(piper.waveform, piper.waveform_lengths),
            **{name: run(*clips) for name, clips in extra_in.items()},
        },
        "foreign": {k: run(*v) for k, v in audio.items()},
        "info": {
            "features": "audio_embedding: unit audio embeddings (DualEncoder.encode_audio); "
            "audio_encoder: the audio tower's output before the projection head",
            "logits": "cosine to the 10 digit prototypes (class means of the fit "
            f"embeddings), energy temperature {EMBED_TEMPERATURE}",
            "fit": f"make_spoken_digits('train', seed=0): {len(fit.voices)} clips, "
            f"{len(set(fit.voices))} voices, class = digit"
            + (", plus one copy through the training augmentation" if augment else ""),
            "calibration": f"make_spoken_digits('test', seed=1): {len(calibration.voices)} "
            f"clips of the {len(set(calibration.voices))} held-out voices, other rate/pitch "
            "draws" + (", plus one copy through the training augmentation" if augment else ""),
            "evaluation": f"make_spoken_digits('test', seed=0): {len(evaluation.voices)} clips "
            f"of the {len(set(evaluation.voices))} held-out voices",
            "training_config": None if config is None else _shown(config),
        },
    }


COLLECT = {"scene": collect_scene, "caption": collect_caption, "embed": collect_embed}


# -- fitting ---------------------------------------------------------------------------------


def _detector(model: str, label: str, data: dict) -> OODDetector:
    score, key = SCORES[model][label]
    key = key or "features"
    fit = data["fit"]
    means, precision = fit_class_gaussians(fit[key], fit["labels"], shrinkage=SHRINKAGE)
    kwargs: dict = {"percentile": PERCENTILE, "inputs": SCORES[model][label][1]}
    if score == "mahalanobis":
        kwargs.update(means=means, precision=precision)
    elif score == "max_cosine":
        kwargs.update(means=torch.nn.functional.normalize(means, dim=-1))
    elif model == "embed":  # energy / msp of the cosines to the prototypes
        kwargs.update(
            means=torch.nn.functional.normalize(means, dim=-1), temperature=EMBED_TEMPERATURE
        )
    return OODDetector.fit(score, **_inputs(data["calibration"], key), **kwargs)


def _inputs(item: dict, key: str) -> dict:
    """The keyword arguments of OODDetector.scores / fit for one set."""
    return {
        "features": item[key],
        "logits": item.get("logits"),
        "logits_lengths": item.get("lengths"),
    }


def _scores(detector: OODDetector, item: dict) -> Tensor:
    return detector.scores(**_inputs(item, detector.inputs or "features"))


def evaluate(model: str, directory: Path, config: Path | None = None) -> tuple[dict, dict]:
    """AUROC and flag rates per score, and the detectors (``config``: embed only)."""
    started = time.time()
    data = COLLECT[model](directory, config) if config else COLLECT[model](directory)
    log.info("%s: inputs gathered in %.0f s", model, time.time() - started)
    table, detectors = {}, {}
    for score in SCORES[model]:  # a label
        detector = _detector(model, score, data)
        evaluation = _scores(detector, data["evaluation"])
        row = {"auroc": {}, "flagged": {}}
        row["flagged"]["held-out (in)"] = float(detector.is_ood(evaluation).float().mean())
        for name, item in data["extra_in"].items():
            values = _scores(detector, item)
            row["flagged"][name + " (in)"] = float(detector.is_ood(values).float().mean())
        for name, item in data["foreign"].items():
            values = _scores(detector, item)
            row["auroc"][name] = auroc(evaluation, values)
            row["flagged"][name] = float(detector.is_ood(values).float().mean())
        table[score], detectors[score] = row, detector
    return {"table": table, "info": data["info"]}, detectors


def choose(table: dict) -> str:
    """The score to ship: among those with AUROC >= 0.95 on every foreign set, the one that
    flags the largest mean share of the foreign inputs at its threshold; else the best
    worst-case AUROC. Ties: the earlier score."""
    good = [s for s in table if min(table[s]["auroc"].values()) >= 0.95]

    def flagged(s: str) -> float:
        shares = [v for k, v in table[s]["flagged"].items() if not k.endswith("(in)")]
        return round(sum(shares) / len(shares), 4)

    if good:
        return max(good, key=lambda s: (flagged(s), -list(table).index(s)))
    return max(
        table, key=lambda s: (round(min(table[s]["auroc"].values()), 4), -list(table).index(s))
    )


def print_table(model: str, name: str, result: dict, chosen: str) -> None:
    table = result["table"]
    sets = list(next(iter(table.values()))["auroc"])
    print(f"\n{name} — AUROC (held-out in-distribution vs foreign); chosen: {chosen}")
    print("| score | " + " | ".join(sets) + " | worst |")
    print("|---|" + "---|" * (len(sets) + 1))
    for score, row in table.items():
        values = [row["auroc"][s] for s in sets]
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {score} | {cells} | {min(values):.3f} |")
    print(f"\n{name} — share flagged at the {PERCENTILE:g}th-percentile threshold")
    flagged = list(next(iter(table.values()))["flagged"])
    print("| score | " + " | ".join(flagged) + " |")
    print("|---|" + "---|" * len(flagged))
    for score, row in table.items():
        print(f"| {score} | " + " | ".join(f"{row['flagged'][s]:.2f}" for s in flagged) + " |")
    print(f"\nfitted on: {result['info']['fit']}; threshold on: {result['info']['calibration']}")
    print(f"held-out: {result['info']['evaluation']}")


def fit_and_save(
    model: str, directory: Path, *, score: str | None = None, config: Path | None = None
) -> OODDetector:
    """Measure every score on ``directory``'s model, save the best (or ``score``) into it."""
    result, detectors = evaluate(model, directory, config)
    chosen = score or choose(result["table"])
    if chosen not in detectors:
        raise SystemExit(f"--score={chosen!r} must be one of {list(detectors)}")
    print_table(model, str(directory), result, chosen)
    detector = detectors[chosen]
    detector.info = {
        **result["info"],
        "threshold_rule": f"{PERCENTILE:g}th percentile of the calibration scores",
        "shrinkage": SHRINKAGE,
        "auroc": result["table"][chosen]["auroc"],
        "flagged": result["table"][chosen]["flagged"],
        "score_label": chosen,
        "command": f"python benchmarks/ood.py --fit {model} --model {_shown(directory)}"
        + ("" if config is None else f" --config {_shown(config)}"),
    }
    detector.save(directory)
    write_checksums(directory)
    print(f"wrote {directory}/ood.json ({chosen}, threshold {detector.threshold:.4g})")
    return detector


def _shown(directory: Path) -> str:
    """``directory`` relative to the working directory when inside it."""
    try:
        return str(Path(directory).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(directory)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", choices=[*SHIPPED, "all"], default=None)
    parser.add_argument("--model", type=Path, default=None, help="model folder (one --fit)")
    parser.add_argument("--score", default=None, help="force this score instead of the best")
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="embed only: the model's training YAML, whose data.train_voices / val_voices / "
        "variations pick the fit and held-out clips",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    if args.model is not None and args.fit in (None, "all"):
        parser.error("--model needs --fit scene|caption|embed")
    if args.config is not None and args.fit != "embed":
        parser.error("--config goes with --fit embed")
    if args.fit is None:
        for model, name in SHIPPED.items():
            result, _ = evaluate(model, pretrained_path(name), config=SHIPPED_CONFIG.get(model))
            print_table(model, name, result, choose(result["table"]))
        return 0
    models = list(SHIPPED) if args.fit == "all" else [args.fit]
    for model in models:
        directory = args.model or pretrained_path(SHIPPED[model])
        config = args.config
        if config is None and args.model is None:
            config = SHIPPED_CONFIG.get(model)
        fit_and_save(model, directory, score=args.score, config=config)
    return 0


if __name__ == "__main__":
    sys.exit(main())
