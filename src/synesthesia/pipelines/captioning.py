"""Image → caption + per-word attention maps, from an exported captioner folder.

The folder (written by ``synesthesia caption train``) holds ``config.json`` +
``model.safetensors`` (a :class:`~synesthesia.models.ShowAttendTell` or a
:class:`~synesthesia.models.TransformerCaptioner`: both decode through
:mod:`synesthesia.models.caption_search` and give one attention map per word), ``vocab.json`` and
``preprocess.json`` (how images are resized, cropped and normalised for this model), and when
fitted (``benchmarks/ood.py --fit caption``) ``ood.json`` + ``ood.safetensors``: a detector
scoring how unlike the training images an image is (:mod:`synesthesia.metrics.ood`). Nothing
here imports Lightning.

Example:
    >>> captioner = ImageCaptioner.from_pretrained("runs/caption/model")
    >>> result = captioner(["strip.png"], beam_size=3)[0]
    >>> result.caption, result.attention_maps.shape      # "three one four", (4, 2, 8)

References:
    Xu et al., "Show, Attend and Tell", ICML 2015; Vaswani et al., "Attention Is All You
    Need", NeurIPS 2017.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.io.image import load_image
from synesthesia.metrics.ood import OODDetector, load_ood_detector
from synesthesia.models import ShowAttendTell, TransformerCaptioner
from synesthesia.pipelines._folder import load_model_folder, require_file, seal_folder
from synesthesia.text.vocab import Vocabulary
from synesthesia.transforms.image import CenterCrop, Normalize, Resize
from synesthesia.utils import atomic_write_json, read_json

__all__ = ["CAPTIONERS", "CaptionResult", "ImageCaptioner", "PREPROCESS_NAME", "VOCAB_NAME"]

VOCAB_NAME = "vocab.json"
PREPROCESS_NAME = "preprocess.json"
#: the architectures a caption folder may hold (everything downstream takes either)
CAPTIONERS = (ShowAttendTell, TransformerCaptioner)
#: how a refusal names them: "holds a 'gpt' model, not a captioner (...)"
CAPTIONER_REFUSAL = " model, not a captioner ('show_attend_tell' or 'transformer_captioner')"


@dataclass
class CaptionResult:
    """One captioned image.

    Attributes:
        caption: the words joined by spaces (``<end>`` excluded).
        words: the generated tokens as words, ``<end>`` included when produced.
        attention_maps: (len(words), rows, columns) attention map of each token (averaged over
            heads for a multi-head model).
        score: beam score (sum of log-probabilities).
        image: the image as the model saw it before normalisation, (C, H, W) in [0, 1].
        ood_score: the folder's OOD score (higher = less like training), None without one.
        is_ood: whether ``ood_score`` is above the detector's threshold (None without one).
        head_attention_maps: (len(words), H, rows, columns) the map of every head of a
            multi-head model (TransformerCaptioner), None for one attention (SAT).
    """

    caption: str
    words: list[str]
    attention_maps: Tensor
    score: float
    image: Tensor
    ood_score: float | None = None
    is_ood: bool | None = None
    head_attention_maps: Tensor | None = None


class ImageCaptioner:
    """A captioner with its vocabulary and image preprocessing.

    Args:
        model: the captioning model (a ShowAttendTell or a TransformerCaptioner).
        vocab: its vocabulary.
        preprocess: ``{"resize": int | [H, W] | None, "center_crop": int | None,
            "normalize": bool}``; an int ``resize`` with a ``center_crop`` keeps the aspect
            ratio (shorter side), otherwise images are resized to exactly ``resize``.
        ood: a fitted OOD detector (``ood.json``), or None.
    """

    def __init__(
        self,
        model: ShowAttendTell | TransformerCaptioner,
        vocab: Vocabulary,
        preprocess: dict[str, Any],
        ood: OODDetector | None = None,
    ) -> None:
        if len(vocab) != model.vocab_size:
            raise CheckpointError(
                f"vocabulary of {len(vocab)} words does not fit the model's "
                f"vocab_size={model.vocab_size}"
            )
        self.model, self.vocab = model.eval(), vocab
        self.preprocess = dict(preprocess)
        steps: list[nn.Module] = []
        resize, crop = preprocess.get("resize"), preprocess.get("center_crop")
        if resize is not None:
            size = resize if isinstance(resize, int) else tuple(resize)
            steps.append(Resize(size, keep_aspect=isinstance(resize, int) and crop is not None))
        if crop is not None:
            steps.append(CenterCrop(crop))
        self.prepare = nn.Sequential(*steps)
        self.normalize = Normalize() if preprocess.get("normalize") else nn.Identity()
        self.ood = ood

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike, *, map_location: str | torch.device = "cpu"
    ) -> ImageCaptioner:
        """Load an exported captioner folder."""
        directory = Path(directory)
        flag = "model directory"
        model = load_model_folder(
            directory,
            CAPTIONERS,
            refusal=CAPTIONER_REFUSAL,
            flag=flag,
            map_location=map_location,
        )
        for name in (VOCAB_NAME, PREPROCESS_NAME):
            require_file(directory, name, flag=flag)
        return cls(
            model,
            Vocabulary.load(directory / VOCAB_NAME),
            read_json(directory / PREPROCESS_NAME),
            load_ood_detector(directory),
        )

    @staticmethod
    def write_extras(
        directory: str | os.PathLike, *, vocab: Vocabulary, preprocess: dict[str, Any]
    ) -> Path:
        """Write ``vocab.json`` and ``preprocess.json`` into a model folder; returns the
        vocabulary's path."""
        path = Path(directory) / VOCAB_NAME
        vocab.save(path)
        atomic_write_json(Path(directory) / PREPROCESS_NAME, preprocess)
        return path

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the folder :meth:`from_pretrained` reads (model, vocabulary, preprocessing)."""
        directory = Path(self.model.save_pretrained(directory))
        self.write_extras(directory, vocab=self.vocab, preprocess=self.preprocess)
        return seal_folder(directory)

    def load(self, image: str | os.PathLike | Tensor) -> Tensor:
        """An image file or tensor (C, H, W) in [0, 1] → the prepared (C, H, W) tensor."""
        if not isinstance(image, Tensor):
            image = load_image(image, mode="RGB")
        if image.dim() != 3:
            raise ParameterError(f"image with shape {tuple(image.shape)} must be (C, H, W)")
        return self.prepare(image)

    def __call__(
        self,
        images: Sequence[str | os.PathLike | Tensor],
        *,
        beam_size: int = 3,
        max_length: int = 20,
        length_normalization: bool = False,
    ) -> list[CaptionResult]:
        """Caption a list of image files or tensors (one batched beam search)."""
        if isinstance(images, (str, os.PathLike, Tensor)):
            raise ParameterError("images must be a list of files or tensors, not one image")
        if not images:
            raise ParameterError("images=[] must hold at least one image")
        pictures = [self.load(image) for image in images]
        shapes = {tuple(p.shape) for p in pictures}
        if len(shapes) != 1:
            raise ParameterError(
                f"images have different shapes after preprocessing: {sorted(shapes)}; set a "
                "fixed size in preprocess.json"
            )
        device = next(self.model.parameters()).device
        batch = self.normalize(torch.stack(pictures)).to(device)
        out = self.model.generate(
            batch,
            beam_size=beam_size,
            max_length=max_length,
            length_normalization=length_normalization,
        )
        scores = flags = None
        if self.ood is not None:
            scores = self.ood_scores(batch, out.tokens, out.lengths)
            flags = self.ood.is_ood(scores)
        results = []
        for i, picture in enumerate(pictures):
            n = int(out.lengths[i])
            tokens = out.tokens[i, :n].tolist()
            heads = None
            if out.head_alphas is not None:
                heads = self.model.attention_maps(out.head_alphas[i, :n]).cpu()
            results.append(
                CaptionResult(
                    caption=self.vocab.decode(tokens),
                    words=[self.vocab.words[t] for t in tokens],
                    attention_maps=self.model.attention_maps(out.alphas[i, :n]).cpu(),
                    score=float(out.scores[i]),
                    image=picture,
                    ood_score=None if scores is None else float(scores[i]),
                    is_ood=None if flags is None else bool(flags[i]),
                    head_attention_maps=heads,
                )
            )
        return results

    @torch.no_grad()
    def ood_inputs(
        self, batch: Tensor, tokens: Tensor, lengths: Tensor
    ) -> tuple[Tensor, Tensor, Tensor]:
        """What an OOD score reads for normalised images (B, C, H, W) and their captions.

        Args:
            batch: normalised images (B, C, H, W).
            tokens: generated tokens (B, L) (no ``<start>``), as ``generate`` returns them.
            lengths: generated tokens per caption (B,).

        Returns:
            features (B, D): the encoder's annotation vectors averaged over the P regions;
            logits (B, L, V): the decoder's logits at each generated word, teacher-forced
            with the caption itself; logits_lengths (B,) = ``lengths``.
        """
        model = self.model
        annotations = model.encode(batch)  # (B, P, D)
        start = torch.full_like(tokens[:, :1], model.start_id)
        captions = torch.cat([start, tokens], dim=1)  # (B, 1 + L)
        lengths = lengths.to(tokens.device).clamp_min(1)
        if captions.shape[1] < 2:
            captions = torch.cat([captions, torch.full_like(start, model.end_id)], dim=1)
        logits, _ = model(batch, captions, lengths + 1)
        return annotations.mean(dim=1), logits, lengths

    def ood_scores(self, batch: Tensor, tokens: Tensor, lengths: Tensor) -> Tensor:
        """The folder's OOD score (B,) of normalised images and their generated captions."""
        if self.ood is None:
            raise ParameterError("this captioner has no OOD detector (no ood.json in its folder)")
        features, logits, logits_lengths = self.ood_inputs(batch, tokens, lengths)
        return self.ood.scores(features=features, logits=logits, logits_lengths=logits_lengths)
