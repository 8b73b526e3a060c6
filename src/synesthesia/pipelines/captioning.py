"""Image → caption + per-word attention maps, from an exported captioner folder.

The folder (written by ``synesthesia caption train``) holds ``config.json`` +
``model.safetensors`` (a :class:`~synesthesia.models.ShowAttendTell`), ``vocab.json`` and
``preprocess.json`` (how images are resized, cropped and normalised for this model). Nothing
here imports Lightning.

Example:
    >>> captioner = ImageCaptioner.from_pretrained("runs/caption/model")
    >>> result = captioner(["strip.png"], beam_size=3)[0]
    >>> result.caption, result.attention_maps.shape      # "three one four", (4, 2, 8)

References:
    Xu et al., "Show, Attend and Tell", ICML 2015.
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
from synesthesia.models import ShowAttendTell, load_pretrained
from synesthesia.text.vocab import Vocabulary
from synesthesia.transforms.image import CenterCrop, Normalize, Resize
from synesthesia.utils import read_json

__all__ = ["CaptionResult", "ImageCaptioner"]

VOCAB_NAME = "vocab.json"
PREPROCESS_NAME = "preprocess.json"


@dataclass
class CaptionResult:
    """One captioned image.

    Attributes:
        caption: the words joined by spaces (``<end>`` excluded).
        words: the generated tokens as words, ``<end>`` included when produced.
        attention_maps: (len(words), rows, columns) attention map of each token.
        score: beam score (sum of log-probabilities).
        image: the image as the model saw it before normalisation, (C, H, W) in [0, 1].
    """

    caption: str
    words: list[str]
    attention_maps: Tensor
    score: float
    image: Tensor


class ImageCaptioner:
    """A captioner with its vocabulary and image preprocessing.

    Args:
        model: the captioning model.
        vocab: its vocabulary.
        preprocess: ``{"resize": int | [H, W] | None, "center_crop": int | None,
            "normalize": bool}``; an int ``resize`` with a ``center_crop`` keeps the aspect
            ratio (shorter side), otherwise images are resized to exactly ``resize``.
    """

    def __init__(
        self, model: ShowAttendTell, vocab: Vocabulary, preprocess: dict[str, Any]
    ) -> None:
        if len(vocab) != model.vocab_size:
            raise CheckpointError(
                f"vocabulary of {len(vocab)} words does not fit the model's "
                f"vocab_size={model.vocab_size}"
            )
        self.model, self.vocab = model.eval(), vocab
        steps: list[nn.Module] = []
        resize, crop = preprocess.get("resize"), preprocess.get("center_crop")
        if resize is not None:
            size = resize if isinstance(resize, int) else tuple(resize)
            steps.append(Resize(size, keep_aspect=isinstance(resize, int) and crop is not None))
        if crop is not None:
            steps.append(CenterCrop(crop))
        self.prepare = nn.Sequential(*steps)
        self.normalize = Normalize() if preprocess.get("normalize") else nn.Identity()

    @classmethod
    def from_pretrained(
        cls, directory: str | os.PathLike, *, map_location: str | torch.device = "cpu"
    ) -> ImageCaptioner:
        """Load an exported captioner folder."""
        directory = Path(directory)
        model = load_pretrained(directory, map_location=map_location)
        if not isinstance(model, ShowAttendTell):
            raise CheckpointError(
                f"model directory={str(directory)!r} holds a {model.architecture!r} model, "
                "not 'show_attend_tell'"
            )
        for name in (VOCAB_NAME, PREPROCESS_NAME):
            if not (directory / name).is_file():
                raise CheckpointError(f"model directory={str(directory)!r} has no {name}")
        return cls(
            model, Vocabulary.load(directory / VOCAB_NAME), read_json(directory / PREPROCESS_NAME)
        )

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
        results = []
        for i, picture in enumerate(pictures):
            n = int(out.lengths[i])
            tokens = out.tokens[i, :n].tolist()
            results.append(
                CaptionResult(
                    caption=self.vocab.decode(tokens),
                    words=[self.vocab.words[t] for t in tokens],
                    attention_maps=self.model.attention_maps(out.alphas[i, :n]).cpu(),
                    score=float(out.scores[i]),
                    image=picture,
                )
            )
        return results
