"""Saving and loading models as folders of safetensors + JSON config (never pickle).

A model folder holds ``config.json`` (``{"architecture": ..., "config": {...}}``, the
constructor arguments), ``model.safetensors`` and ``checksums.json``. Subclasses of
:class:`PretrainedModel` set ``architecture`` and implement :meth:`get_config`; an
``AudioConfig`` argument is stored as a nested dict and restored on load.

``checksums.json`` (``{"algorithm": "sha256", "files": {name: hex digest}}``) records every
file of the folder but itself and ``README.md``: ``save_pretrained`` writes it, and an export
that adds files after the weights (``vocab.json``, ``text_processor.json`` ...) calls
:func:`write_checksums` again (``synesthesia.training.export_model`` does). ``from_pretrained``
verifies every listed file before reading any of them, so weights damaged behind an intact
safetensors header are a :class:`~synesthesia.errors.CheckpointError` naming the file, not
garbage output. A folder without ``checksums.json`` (written before digests existed) still
loads, with one warning per folder; ``write_checksums(folder)`` seals it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, load_model, save_file, save_model
from torch import nn

from synesthesia.config import AudioConfig
from synesthesia.errors import CheckpointError, ParameterError
from synesthesia.utils import atomic_write_json, read_json

__all__ = [
    "PretrainedModel",
    "architecture_class",
    "list_architectures",
    "load_pretrained",
    "verify_checksums",
    "write_checksums",
]

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CHECKSUMS_NAME = "checksums.json"
#: files of a model folder that checksums.json does not cover (documentation, itself)
UNCHECKED_NAMES = frozenset({CHECKSUMS_NAME, "README.md"})
_HASH = "sha256"
_WARNED_UNSEALED: set[Path] = set()
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


def _digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def write_checksums(directory: str | os.PathLike) -> Path:
    """Record the sha256 of every file in a model folder in its ``checksums.json``.

    Covers every regular, non-hidden file directly in ``directory`` except ``README.md`` and
    ``checksums.json`` itself. Call it after adding files to a folder written by
    :meth:`PretrainedModel.save_pretrained` (which calls it itself), or once to seal a folder
    saved before digests existed.

    Returns:
        The path of ``checksums.json``.

    Raises:
        CheckpointError: ``directory`` is not a folder.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"model directory={str(directory)!r} does not exist")
    files = {
        p.name: _digest(p)
        for p in sorted(directory.iterdir())
        if p.is_file() and not p.name.startswith(".") and p.name not in UNCHECKED_NAMES
    }
    path = directory / CHECKSUMS_NAME
    atomic_write_json(path, {"algorithm": _HASH, "files": files})
    return path


def verify_checksums(directory: str | os.PathLike) -> bool:
    """Check every file listed in ``directory/checksums.json`` against its sha256.

    Files of the folder that the list does not name (a README, a figure added later) are not
    checked. A folder without ``checksums.json`` passes with a warning (once per folder).

    Returns:
        True when the folder has checksums and all match, False when it has none.

    Raises:
        CheckpointError: a listed file is missing or its content differs (the message names
            the file), or ``checksums.json`` itself is malformed.
    """
    directory = Path(directory)
    path = directory / CHECKSUMS_NAME
    if not path.is_file():
        key = directory.resolve()
        if key not in _WARNED_UNSEALED:
            _WARNED_UNSEALED.add(key)
            warnings.warn(
                f"model directory={str(directory)!r} has no {CHECKSUMS_NAME}, so damaged files "
                "cannot be detected; seal it with "
                "synesthesia.models.base.write_checksums(directory)",
                stacklevel=3,
            )
        return False
    try:
        manifest = read_json(path)
    except ParameterError as exc:
        raise CheckpointError(str(exc)) from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (
        not isinstance(manifest, dict)
        or manifest.get("algorithm") != _HASH
        or not isinstance(files, dict)
        or not all(isinstance(v, str) for v in files.values())
    ):
        raise CheckpointError(
            f"{str(path)!r} must be {{'algorithm': {_HASH!r}, 'files': {{name: hex digest}}}}"
        )
    for name, expected in sorted(files.items()):
        file = directory / name
        if Path(name).name != name or name in UNCHECKED_NAMES:
            raise CheckpointError(f"{str(path)!r} lists name={name!r}, not a file of the folder")
        if not file.is_file():
            raise CheckpointError(
                f"model directory={str(directory)!r} has no {name}, which {CHECKSUMS_NAME} lists"
            )
        actual = _digest(file)
        if actual != expected.lower():
            raise CheckpointError(
                f"{name} in model directory={str(directory)!r} is corrupt or was modified: its "
                f"{_HASH} {actual[:16]}... differs from {expected[:16]}... in {CHECKSUMS_NAME}"
            )
    return True


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
        """Write ``config.json``, ``model.safetensors`` and ``checksums.json`` atomically.

        ``dtype`` (e.g. ``torch.float16``) stores floating-point tensors in that type to halve
        a shipped file; :meth:`from_pretrained` casts them back to the model's own dtype.

        The files are written into a temporary sibling folder that replaces ``directory`` only
        when complete, so an interrupted save never damages an existing model folder. Other
        files already in ``directory`` (a vocabulary, figures) are kept, and
        ``checksums.json`` records the sha256 of all of them (see :func:`write_checksums`; call
        it again after adding files to the folder).

        Returns:
            The directory path.
        """
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            if directory.is_dir():
                for item in directory.iterdir():
                    skip = (CONFIG_NAME, WEIGHTS_NAME, CHECKSUMS_NAME)
                    if item.name not in skip and item.is_file():
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
            write_checksums(tmp)
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

        Every file listed in ``checksums.json`` is verified first (:func:`verify_checksums`);
        a folder without one loads with a warning.

        Raises:
            CheckpointError: missing files, a file whose sha256 differs from
                ``checksums.json``, another architecture, or weights that do not fit.
        """
        directory = Path(directory)
        if not directory.is_dir():
            raise CheckpointError(f"model directory={str(directory)!r} does not exist")
        config_path = directory / CONFIG_NAME
        weights_path = directory / WEIGHTS_NAME
        for path in (config_path, weights_path):
            if not path.is_file():
                raise CheckpointError(f"model directory={str(directory)!r} has no {path.name}")
        verify_checksums(directory)
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
        # load_model copies the tensors into the CPU-built parameters: move the model itself
        model.to(torch.device(map_location))
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
