"""Scores of a Speech2Face model on held-out speakers, each beside chance and baselines.

:func:`speech2face_scores` computes, for every held-out clip (the query) and the held-out
speakers' faces (the N candidates):

- **retrieval**: Recall@K of the speaker's face among the N faces, ranked by the cosine of the
  face encoder's features to the voice's predicted feature (:func:`retrieval_metrics`);
- **cosine**: the mean cosine between the predicted and the true face feature, and (with
  training speakers) ``cosine_centred``, the same after subtracting the training speakers'
  mean face feature — face features share a large common direction, so the plain cosine of
  even the mean face is high, while the centred one of the mean face is 0;
- **attribute agreement** (when the model has an attribute classifier and the data have
  attributes): the share of clips whose *decoded* face is read by the attribute classifier as
  the speaker's true attribute value — the paper's Face++ check;

for the model and for two baselines that use the same face encoder and decoder:

- **mean face**: every voice predicts the mean face feature of the training speakers;
- **nearest training voice**: the face feature of the training speaker whose clip is nearest
  to the query (cosine of per-clip mean and standard deviation of the log-mel, z-scored on
  the training clips) — a voice-matching baseline without learning;

and chance (R@K = K / N; for attributes, the majority value's share among held-out clips).

References:
    Oh et al., "Speech2Face", CVPR 2019 (Sec. 4: feature similarity, retrieval among face
    candidates, Face++ attribute agreement).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from synesthesia.data.speech2face import FaceVoiceSet, collate_clips
from synesthesia.errors import ParameterError
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.metrics.retrieval import retrieval_metrics

__all__ = ["speech2face_scores", "predict_voice_features"]


@torch.no_grad()
def predict_voice_features(model: Any, clips: list[Tensor], *, batch_size: int = 32) -> Tensor:
    """Predicted face features (num_clips, E) of clips (lists of (T_i,)), in batches."""
    out = []
    for start in range(0, len(clips), batch_size):
        waveform, lengths = collate_clips(clips[start : start + batch_size])
        out.append(model.voice_encoder(waveform, lengths))
    return torch.cat(out)


@torch.no_grad()
def _batched(fn: Any, x: Tensor, batch_size: int = 64) -> Tensor:
    return torch.cat([fn(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


@torch.no_grad()
def _voice_descriptors(model: Any, clips: list[Tensor], batch_size: int = 32) -> Tensor:
    """(num_clips, 2M): mean and std over the valid frames of each clip's log-mel."""
    encoder = model.voice_encoder
    out = []
    for start in range(0, len(clips), batch_size):
        waveform, lengths = collate_clips(clips[start : start + batch_size])
        mel = encoder.log_mel(waveform)  # (B, M, N)
        frames = encoder.frame_lengths(lengths).clamp(min=1, max=mel.shape[-1])
        mask = lengths_to_mask(frames, max_length=mel.shape[-1]).to(mel.dtype)[:, None]
        count = mask.sum(-1)
        mean = (mel * mask).sum(-1) / count
        std = (((mel - mean[..., None]) ** 2 * mask).sum(-1) / count).sqrt()
        out.append(torch.cat([mean, std], dim=-1))
    return torch.cat(out)


def _cosine(a: Tensor, b: Tensor) -> float:
    return float(torch.nn.functional.cosine_similarity(a, b, dim=-1).mean())


def _retrieval(query: Tensor, gallery: Tensor, labels: Tensor, ks: tuple[int, ...]) -> dict:
    scores = retrieval_metrics(
        query,
        gallery,
        query_labels=labels,
        gallery_labels=torch.arange(len(gallery)),
        ks=ks,
    )
    return {k: v for k, v in scores.items() if k != "num_queries"}


@torch.no_grad()
def speech2face_scores(
    model: Any,
    test: FaceVoiceSet,
    train: FaceVoiceSet | None = None,
    *,
    ks: tuple[int, ...] = (1, 5, 10),
) -> dict[str, Any]:
    """Retrieval, cosine and attribute scores of ``model`` on ``test`` (see the module doc).

    Args:
        model: a :class:`~synesthesia.models.speech2face.Speech2FaceModel` (put in eval mode).
        test: the held-out speakers (clips and faces).
        train: the training speakers, for the two baselines (``None``: no baselines).
        ks: the K of each Recall@K.

    Returns:
        ``{"num_speakers", "num_clips", "chance": {...}, "model": {...}, "mean_face": {...},
        "nearest_voice": {...}}``; each method holds ``R@K``, ``median_rank``, ``mAP``,
        ``cosine``, ``cosine_centred`` (with ``train``) and, with attributes, ``attributes``
        ({name: agreement}, ``mean``).
    """
    if len(test.identities) < 2:
        raise ParameterError(f"test holds {len(test.identities)} speaker(s); need at least 2")
    model.eval()
    gallery = _batched(model.face_encoder.features, test.faces[test.canonical])  # (N, E)
    labels = test.clip_identity
    truth = gallery[labels]  # (Q, E)
    predictions = {"model": predict_voice_features(model, test.clips)}
    centre = None
    if train is not None:
        train_faces = _batched(model.face_encoder.features, train.faces[train.canonical])
        centre = train_faces.mean(0, keepdim=True)
        predictions["mean_face"] = centre.expand(len(labels), -1)
        reference = _voice_descriptors(model, train.clips)
        mu, sigma = reference.mean(0), reference.std(0).clamp(min=1e-6)
        query = (_voice_descriptors(model, test.clips) - mu) / sigma
        similarity = (
            torch.nn.functional.normalize(query, dim=-1)
            @ torch.nn.functional.normalize((reference - mu) / sigma, dim=-1).T
        )
        nearest = similarity.argmax(-1)
        predictions["nearest_voice"] = train_faces[train.clip_identity[nearest]]
    n = len(test.identities)
    result: dict[str, Any] = {
        "num_speakers": n,
        "num_clips": len(labels),
        "chance": {f"R@{k}": min(k, n) / n for k in ks},
    }
    has_classifier = getattr(model, "attribute_classifier", None) is not None
    attribute_labels = test.attribute_labels(model.attributes) if has_classifier else None
    use_attributes = attribute_labels is not None and bool((attribute_labels >= 0).all())
    if use_attributes:
        clip_truth = attribute_labels[labels]  # (Q, A)
        majority = {}
        for a, name in enumerate(model.attributes):
            counts = torch.bincount(clip_truth[:, a].clamp(min=0))
            majority[name] = float(counts.max()) / len(labels)
        majority["mean"] = sum(majority.values()) / len(model.attributes)
        result["chance"]["attributes"] = majority

        def agreement(images: Tensor) -> dict[str, float]:
            read = _batched(model.predict_attributes, images)
            scores = {
                name: float((read[:, a] == clip_truth[:, a]).float().mean())
                for a, name in enumerate(model.attributes)
            }
            scores["mean"] = sum(scores.values()) / len(model.attributes)
            return scores

        faces = test.faces[test.canonical][labels]
        result["true_face"] = {"attributes": agreement(faces)}
        result["decoded_true_feature"] = {
            "attributes": agreement(_batched(model.face_decoder, truth)),
            "cosine": 1.0,
        }
    for name, predicted in predictions.items():
        scores = _retrieval(predicted, gallery, labels, ks)
        scores["cosine"] = _cosine(predicted, truth)
        if centre is not None:
            scores["cosine_centred"] = _cosine(predicted - centre, truth - centre)
        if use_attributes:
            scores["attributes"] = agreement(_batched(model.face_decoder, predicted))
        result[name] = scores
    return result
