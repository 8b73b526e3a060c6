"""One way for every pipeline to load and seal its model folder.

A model folder is ``config.json`` + ``model.safetensors`` (+ ``checksums.json``) written by
:meth:`~synesthesia.models.PretrainedModel.save_pretrained`, plus the extra files its pipeline
names (``vocab.json``, ``tokenizer.json``, ``audio_config.json`` ...). Each pipeline's
``from_pretrained`` loads the network with :func:`load_model_folder` (which checks its class)
and its extra files with :func:`require_file`; its ``save_pretrained`` writes the network, then
the extras, then seals them with :func:`seal_folder`. Nothing here imports Lightning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

import torch

from synesthesia.errors import CheckpointError

__all__ = ["load_model_folder", "require_file", "seal_folder"]

M = TypeVar("M")


def load_model_folder(
    directory: str | os.PathLike,
    expected: type[M] | tuple[type[M], ...],
    *,
    refusal: str,
    flag: str = "model",
    map_location: str | torch.device = "cpu",
) -> M:
    """The network of a model folder, refused unless it is an ``expected``.

    Args:
        directory: the model folder.
        expected: the class the pipeline runs (or a tuple of the classes it accepts).
        refusal: what follows the architecture in the error, e.g. ``" model, not 'gpt'"``
            (``"{flag}='DIR' holds a 'other'{refusal}"``).
        flag: how the error names the folder (``model``, ``--model``, ``model directory``).
        map_location: device for the weights.

    Raises:
        CheckpointError: a missing or damaged folder, or another architecture.
    """
    from synesthesia.models import load_pretrained

    model = load_pretrained(directory, map_location=map_location)
    if not isinstance(model, expected):
        raise CheckpointError(f"{flag}={str(directory)!r} holds a {model.architecture!r}{refusal}")
    return model


def require_file(directory: str | os.PathLike, name: str, *, flag: str = "model") -> Path:
    """``directory / name``; a CheckpointError naming the folder when it is not a file."""
    path = Path(directory) / name
    if not path.is_file():
        raise CheckpointError(f"{flag}={str(directory)!r} has no {name}")
    return path


def seal_folder(directory: str | os.PathLike) -> Path:
    """Rewrite ``checksums.json`` so that it covers the extra files too (loading verifies
    them)."""
    from synesthesia.models.base import write_checksums

    write_checksums(directory)
    return Path(directory)
