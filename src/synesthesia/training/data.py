"""Resumable random training batches: batch ``j`` depends only on ``(seed, j)``.

Lightning restarts a plain DataLoader from its beginning when a run resumes, so a run that was
stopped at step ``k`` and resumed would see different batches than an uninterrupted one. A
:class:`RandomBatchStream` instead draws global batch ``j`` from a generator seeded by
``(seed, j)`` and starts at the number of batches already consumed
(:func:`batches_consumed`), so resuming reproduces the uninterrupted run batch for batch.
Under DDP, rank ``r`` of ``W`` takes global batches ``j * W + r``; DataLoader workers split
the stream round-robin, which DataLoader reassembles in order.

For an exact resume with dropout, pass ``generator=torch.Generator()`` to every DataLoader:
creating a DataLoader iterator otherwise draws a seed from the global RNG (the one dropout
uses, restored from the checkpoint), and validation runs create iterators at points that
differ between an interrupted and an uninterrupted run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import IterableDataset, Sampler, get_worker_info

from synesthesia.errors import ParameterError

__all__ = [
    "EpochShuffleSampler",
    "RandomBatchStream",
    "batch_generator",
    "batches_consumed",
    "check_data_int",
    "fixed_loader",
    "stream_loader",
]


def batch_generator(seed: int, index: int) -> torch.Generator:
    """A CPU generator seeded from ``(seed, index)`` through numpy's SeedSequence."""
    state = np.random.SeedSequence([int(seed), int(index)]).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 31 ^ int(state[1]))


class RandomBatchStream(IterableDataset):
    """An endless stream of batches ``make_batch(generator)``; use with ``batch_size=None``.

    Args:
        make_batch: a picklable callable ``(torch.Generator) -> batch``.
        seed: base seed of the stream.
        start: index (per rank) of the first batch to produce, e.g. :func:`batches_consumed`.
        rank: this process's global rank.
        world_size: number of processes that each consume their own batches.
    """

    def __init__(
        self,
        make_batch: Callable[[torch.Generator], Any],
        *,
        seed: int,
        start: int = 0,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if start < 0:
            raise ParameterError(f"start={start} must be >= 0")
        if world_size < 1 or not 0 <= rank < world_size:
            raise ParameterError(f"rank={rank} must be in [0, world_size={world_size})")
        self.make_batch = make_batch
        self.seed = seed
        self.start = start
        self.rank = rank
        self.world_size = world_size

    def global_index(self, local_index: int) -> int:
        """Global batch number of this rank's ``local_index``-th batch."""
        return local_index * self.world_size + self.rank

    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        num_workers, worker_id = (1, 0) if info is None else (info.num_workers, info.id)
        local = self.start + worker_id
        while True:
            yield self.make_batch(batch_generator(self.seed, self.global_index(local)))
            local += num_workers


class EpochShuffleSampler(Sampler[int]):
    """Indices ``0 .. size - 1`` in a new order each epoch that depends only on ``(seed, epoch)``,
    starting ``start`` samples into the whole sequence of epochs (for a resumed run).

    A map-style DataLoader with ``shuffle=True`` is not resumable: Lightning restarts the epoch
    from its first batch and the loader's generator from its seed, so a resumed run sees other
    batches than an uninterrupted one. This sampler counts its own epochs (each ``iter()`` is
    one) and, built with ``start`` from :func:`samples_consumed`, skips what the interrupted
    run already used. ``len()`` stays ``size`` so Lightning keeps counting whole epochs. One
    process only: under DDP Lightning wraps it and the skip no longer lines up.

    Args:
        size: number of items in the data set.
        seed: base seed.
        start: samples already consumed over all epochs (``epoch * size + offset``).
    """

    def __init__(self, size: int, *, seed: int, start: int = 0) -> None:
        if size < 1:
            raise ParameterError(f"size={size} must be a positive integer")
        if start < 0:
            raise ParameterError(f"start={start} must be >= 0")
        self.size, self.seed = size, seed
        self.epoch, self.offset = divmod(start, size)

    def __len__(self) -> int:
        return self.size

    def __iter__(self) -> Iterator[int]:
        order = torch.randperm(self.size, generator=batch_generator(self.seed, self.epoch))
        offset, self.offset = self.offset, 0
        self.epoch += 1
        return iter(order[offset:].tolist())


def samples_consumed(trainer: L.Trainer | None, *, size: int, batch_size: int) -> int:
    """Samples of a ``size``-item data set, in batches of ``batch_size`` (the last one of each
    epoch possibly short), that ``trainer`` has consumed: the ``start`` of an
    :class:`EpochShuffleSampler`."""
    per_epoch = -(-size // batch_size)
    epochs, batches = divmod(batches_consumed(trainer), per_epoch)
    return epochs * size + batches * batch_size


def batches_consumed(trainer: L.Trainer | None) -> int:
    """Training batches this process has already consumed (0 for a fresh run).

    Read in ``train_dataloader()``, which Lightning calls after restoring a checkpoint. Counts
    *processed* batches: a checkpoint written in ``on_train_batch_end`` (``last.ckpt`` every
    ``checkpoint.every_n_train_steps`` steps) is saved before Lightning marks that batch
    completed (it does so only when it restarts the epoch loop, after ``train_dataloader()``),
    so ``completed`` would be one short there and the resumed run would repeat a batch.
    """
    if trainer is None:
        return 0
    return int(trainer.fit_loop.epoch_loop.batch_progress.total.processed)


def stream_loader(
    make_batch: Callable[[torch.Generator], Any], *, seed: int, trainer: L.Trainer | None,
    num_workers: int = 0,
):  # fmt: skip
    """A DataLoader over a :class:`RandomBatchStream` that resumes where ``trainer`` stopped
    and splits the stream over DDP ranks (call it from ``train_dataloader``)."""
    from torch.utils.data import DataLoader

    stream = RandomBatchStream(
        make_batch,
        seed=seed,
        start=batches_consumed(trainer),
        rank=trainer.global_rank if trainer is not None else 0,
        world_size=trainer.world_size if trainer is not None else 1,
    )
    return DataLoader(stream, batch_size=None, num_workers=num_workers, generator=torch.Generator())


def fixed_loader(batches: list[Any]):
    """A DataLoader over ready-made batches (validation), in order, with its own generator:
    creating its iterator draws nothing from the global RNG."""
    from torch.utils.data import DataLoader

    return DataLoader(batches, batch_size=None, generator=torch.Generator())


def check_data_int(name: str, value: Any, low: int, *, optional: bool = False) -> int | None:
    """``value`` of config key ``data.<name>`` if it is an integer >= ``low`` (or None when
    ``optional``); otherwise ParameterError quoting it."""
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        rule = f"an integer >= {low}" + (" or null" if optional else "")
        raise ParameterError(f"data.{name}={value!r} must be {rule}")
    return value
