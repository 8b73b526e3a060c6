"""Saving and loading models as folders of safetensors + JSON config (never pickle).

A model folder holds ``config.json`` (``{"architecture": ..., "config": {...}}``, the
constructor arguments) and ``model.safetensors``. Subclasses of :class:`PretrainedModel` set
``architecture`` and implement :meth:`get_config`; an ``AudioConfig`` argument is stored as a
nested dict and restored on load.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn

from synesthesia.config import AudioConfig
from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.utils import atomic_write_json, read_json

__all__ = ["PretrainedModel", "architecture_class", "list_architectures", "load_pretrained"]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
_AUDIO_KEY = "__audio_config__"
_ARCHITECTURES: dict[str, type[PretrainedModel]] = {}

M = TypeVar("M", bound="PretrainedModel")


def _encode(value: Any) -> Any:
    if isinstance(value, AudioConfig):
        return {_AUDIO_KEY: value.to_dict()}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_AUDIO_KEY}:
            return AudioConfig.from_dict(value[_AUDIO_KEY])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class PretrainedModel(nn.Module):
    """Base class of every registered architecture: ``save_pretrained`` / ``from_pretrained``.

    Subclasses define the class attribute ``architecture`` (a unique name) and
    :meth:`get_config` (the keyword arguments that rebuild the same module).
    """

    architecture: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("architecture", "")
        if name:
            if name in _ARCHITECTURES and _ARCHITECTURES[name] is not cls:
                raise RuntimeError(f"architecture {name!r} is defined twice")
            _ARCHITECTURES[name] = cls

    def get_config(self) -> dict[str, Any]:
        """Constructor keyword arguments that rebuild this module (JSON-serialisable)."""
        raise NotImplementedError

    @property
    def num_parameters(self) -> int:
        """Number of parameters (tied tensors counted once)."""
        return sum(p.numel() for p in self.parameters())

    def save_pretrained(
        self, directory: str | os.PathLike, *, dtype: torch.dtype | None = None
    ) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``directory`` atomically.

        ``dtype`` (e.g. ``torch.float16``) stores floating-point tensors in that type to halve
        a shipped file; :meth:`from_pretrained` casts them back to the model's own dtype.

        The files are written into a temporary sibling folder that replaces ``directory`` only
        when complete, so an interrupted save never damages an existing model folder. Other
        files already in ``directory`` (a vocabulary, figures) are kept.

        Returns:
            The directory path.
        """
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            if directory.is_dir():
                for item in directory.iterdir():
                    if item.name not in (CONFIG_NAME, WEIGHTS_NAME) and item.is_file():
                        shutil.copy2(item, tmp / item.name)
            payload = {"architecture": self.architecture, "config": _encode(self.get_config())}
            atomic_write_json(tmp / CONFIG_NAME, payload)
            if dtype is not None and (
                not isinstance(dtype, torch.dtype) or not dtype.is_floating_point
            ):
                raise ParameterError(f"dtype={dtype!r} must be a floating torch.dtype")
            save_model(self, str(tmp / WEIGHTS_NAME))  # (drops duplicate names of tied weights)
            if dtype is not None:
                state = load_file(str(tmp / WEIGHTS_NAME))
                state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
                save_file(state, str(tmp / WEIGHTS_NAME), metadata={"format": "pt"})
            # mkdtemp makes the folder 0700: give folder and weights the usual permissions
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)
            os.chmod(tmp / WEIGHTS_NAME, 0o666 & ~umask)
            backup = None
            if directory.exists():
                backup = directory.with_name(f".{directory.name}.old-{os.getpid()}")
                os.replace(directory, backup)
            os.replace(tmp, directory)
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return directory

    @classmethod
    def from_pretrained(
        cls: type[M], directory: str | os.PathLike, *, map_location: str | torch.device = "cpu"
    ) -> M:
        """Load a model folder written by :meth:`save_pretrained`.

        Args:
            directory: the model folder.
            map_location: device for the weights.

        Raises:
            CheckpointError: missing files, another architecture, or weights that do not fit.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise CheckpointError(f"model directory={str(directory)!r} does not exist")
        config_path = directory / CONFIG_NAME
        weights_path = directory / WEIGHTS_NAME
        for path in (config_path, weights_path):
            if not path.is_file():
                raise CheckpointError(f"model directory={str(directory)!r} has no {path.name}")
        try:
            payload = read_json(config_path)
        except ParameterError as exc:
            raise CheckpointError(str(exc)) from None
        if not isinstance(payload, dict) or "architecture" not in payload:
            raise CheckpointError(f"{str(config_path)!r} is not a synesthesia model config")
        name = payload["architecture"]
        target = architecture_class(name) if cls is PretrainedModel else cls
        if target.architecture != name:
            raise CheckpointError(
                f"model directory={str(directory)!r} holds a {name!r} model, "
                f"not {target.architecture!r}"
            )
        try:
            model = target(**_decode(payload.get("config", {})))
        except TypeError as exc:
            raise CheckpointError(
                f"config of {str(directory)!r} does not fit {name}: {exc}"
            ) from None
        try:
            missing, unexpected = load_model(
                model, str(weights_path), strict=False, device=str(map_location)
            )
        except (SafetensorError, OSError, RuntimeError) as exc:
            raise CheckpointError(f"cannot read weights {str(weights_path)!r}: {exc}") from None
        if missing or unexpected:
            raise CheckpointError(
                f"weights in {str(weights_path)!r} do not fit {name}: "
                f"missing={sorted(missing)[:5]}, unexpected={sorted(unexpected)[:5]}"
            )
        model.eval()
        return model


def architecture_class(name: str) -> type[PretrainedModel]:
    """The class registered under architecture ``name``."""
    import synesthesia.models  # noqa: F401  (registers every architecture)

    if name not in _ARCHITECTURES:
        raise CheckpointError(f"architecture={name!r} is unknown; known: {sorted(_ARCHITECTURES)}")
    return _ARCHITECTURES[name]


def list_architectures() -> list[str]:
    """Names of every registered architecture."""
    import synesthesia.models  # noqa: F401

    return sorted(_ARCHITECTURES)


def load_pretrained(
    directory: str | os.PathLike, *, map_location: str | torch.device = "cpu"
) -> PretrainedModel:
    """Load any model folder, whatever its architecture."""
    return PretrainedModel.from_pretrained(directory, map_location=map_location)
