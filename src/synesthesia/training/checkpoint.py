"""Crash-safe checkpoint files: every ``.ckpt`` the fit loop writes appears whole or not at all.

:class:`AtomicCheckpointIO` is the Lightning ``CheckpointIO`` plugin :func:`~synesthesia.
training.fit.build_trainer` installs, so ``last.ckpt`` (written by ``_SaveLast``) and the
``best-step=N.ckpt`` files (written by ``ModelCheckpoint``) all go through
:func:`atomic_torch_save`: serialise into a temporary file in the same folder, flush and
``fsync`` it, ``os.replace`` it over the target, then ``fsync`` the folder so that the rename
itself survives a power cut. A process killed at any moment (SIGKILL included) therefore leaves
either the previous checkpoint or the new one, never a truncated file; a failed write removes
its temporary file and re-raises.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

__all__ = ["AtomicCheckpointIO", "atomic_torch_save", "TEMP_SUFFIX"]

#: suffix of the temporary file a checkpoint is written to before it is renamed
TEMP_SUFFIX = ".tmp"


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save(obj, path)`` that never leaves a half-written ``path``.

    Args:
        obj: what to save (a checkpoint dict).
        path: the target file; its folder is created if needed.

    Returns:
        ``path`` as a Path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(obj, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)
    return path


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning's ``TorchCheckpointIO`` with :func:`atomic_torch_save` as the writer."""

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | os.PathLike, storage_options: Any = None
    ) -> None:
        if storage_options is not None:
            raise TypeError(f"{type(self).__name__} takes no storage_options")
        atomic_torch_save(checkpoint, path)
