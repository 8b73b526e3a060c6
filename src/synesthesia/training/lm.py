"""Language-model training: next-token cross-entropy on one text file.

The text is tokenized (characters or UTF-8 bytes), its last ``val_fraction`` of tokens is held
out, training draws random windows of ``block_size + 1`` tokens (inputs and next-token
targets) from the rest through a resumable :class:`RandomBatchStream`, and validation uses
fixed windows every ``val_stride`` tokens. The exported model folder holds ``tokenizer.json``
beside the model, so ``synesthesia lm generate --model DIR`` needs nothing else.

References:
    Karpathy, nanoGPT (``get_batch``: random windows of a token stream, character-level
    Shakespeare); Radford et al. 2019 (GPT-2 language modelling objective).
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import DataLoader, TensorDataset

from synesthesia.errors import ParameterError
from synesthesia.pipelines.lm import TextGenerator
from synesthesia.text.tokenizer import ByteTokenizer, CharTokenizer
from synesthesia.training.config import DEFAULTS
from synesthesia.training.data import stream_loader
from synesthesia.training.fit import FitResult
from synesthesia.training.system import ModelSystem
from synesthesia.training.task import Task, train

__all__ = [
    "LM_DEFAULTS",
    "LM_TASK",
    "LMSystem",
    "TextDataModule",
    "WindowSampler",
    "read_text",
    "train_lm",
    "unigram_entropy",
]

log = logging.getLogger(__name__)

#: defaults of ``synesthesia lm train`` (configs/lm/tiny.yaml spells them out)
LM_DEFAULTS: dict[str, Any] = copy.deepcopy(DEFAULTS)
LM_DEFAULTS["out_dir"] = "runs/lm"
LM_DEFAULTS["model"].update(name="gpt_tiny", kwargs={})
LM_DEFAULTS["data"] = {
    "text_path": None,
    "tokenizer": "char",
    "block_size": 64,
    "batch_size": 32,
    "val_fraction": 0.1,
    "val_stride": None,
    "num_workers": 0,
}
LM_DEFAULTS["optim"].update(lr=3.0e-3, warmup_steps=50)
LM_DEFAULTS["trainer"].update(val_check_interval=100, limit_val_batches=20)

_TOKENIZERS = ("char", "byte")


def read_text(path: str | Path) -> str:
    """Read a UTF-8 text file; missing, unreadable or empty files are ParameterErrors."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"text={str(path)!r} does not exist or is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ParameterError(f"text={str(path)!r} is not UTF-8 text: {exc}") from None
    if not text:
        raise ParameterError(f"text={str(path)!r} is empty")
    return text


def unigram_entropy(ids: Sequence[int] | Tensor) -> float:
    """Entropy in nats of the empirical token distribution of ``ids`` (L,).

    A model that ignores context cannot beat this cross-entropy on the same text.
    """
    ids = torch.as_tensor(ids, dtype=torch.long).flatten()
    if ids.numel() == 0:
        raise ParameterError("ids must not be empty")
    p = torch.bincount(ids).double()
    p = p[p > 0] / ids.numel()
    return float(-(p * p.log()).sum())


class WindowSampler:
    """Random training windows of a token stream: ``generator → (x (B, L), y (B, L))``.

    ``x = tokens[s : s + L]`` and ``y = tokens[s + 1 : s + L + 1]`` for ``B`` uniformly drawn
    starts ``s``; ``L = block_size``.
    """

    def __init__(self, tokens: Tensor, *, block_size: int, batch_size: int) -> None:
        self.tokens = tokens
        self.block_size = block_size
        self.batch_size = batch_size

    def __call__(self, generator: torch.Generator) -> tuple[Tensor, Tensor]:
        high = self.tokens.numel() - self.block_size  # starts in [0, high)
        starts = torch.randint(0, high, (self.batch_size,), generator=generator)
        index = starts[:, None] + torch.arange(self.block_size + 1)  # (B, L + 1)
        window = self.tokens[index]
        return window[:, :-1], window[:, 1:]


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ParameterError(f"data.{name}={value!r} must be an integer >= {low}")
    return value


class TextDataModule(L.LightningDataModule):
    """A text file as next-token windows.

    The text is read and tokenized at construction, so a bad file fails before Lightning
    starts and ``vocab_size`` is known when the model is built.

    Args:
        text_path: UTF-8 text file.
        tokenizer: "char" (distinct characters of the text + an unknown token) or "byte".
        block_size: tokens per window ``L``.
        batch_size: windows per batch ``B``.
        val_fraction: share of tokens at the end held out for validation.
        val_stride: tokens between validation windows (``None``: ``block_size``, no overlap).
        num_workers: DataLoader workers.
        seed: seed of the random training windows.
    """

    def __init__(
        self,
        text_path: str | Path,
        *,
        tokenizer: str = "char",
        block_size: int = 64,
        batch_size: int = 32,
        val_fraction: float = 0.1,
        val_stride: int | None = None,
        num_workers: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if tokenizer not in _TOKENIZERS:
            raise ParameterError(f"data.tokenizer={tokenizer!r} must be one of {_TOKENIZERS}")
        self.block_size = _check_int("block_size", block_size, 1)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        self.num_workers = _check_int("num_workers", num_workers, 0)
        self.val_stride = _check_int("val_stride", val_stride or block_size, 1)
        if (
            isinstance(val_fraction, bool)
            or not isinstance(val_fraction, (int, float))
            or not (0 < val_fraction < 1)
        ):
            raise ParameterError(f"data.val_fraction={val_fraction!r} must be in (0, 1)")
        self.seed = seed
        self.text_path = Path(text_path)
        text = read_text(self.text_path)
        self.tokenizer = CharTokenizer.from_text(text) if tokenizer == "char" else ByteTokenizer()
        tokens = torch.tensor(self.tokenizer.encode(text), dtype=torch.long)
        num_val = int(round(tokens.numel() * val_fraction))
        num_train = tokens.numel() - num_val
        need = self.block_size + 1
        if num_val < need or num_train < need:
            raise ParameterError(
                f"text={str(self.text_path)!r} has {tokens.numel()} tokens: with "
                f"val_fraction={val_fraction} the split is {num_train} train / {num_val} "
                f"validation, and each must hold at least block_size + 1 = {need} tokens; "
                "use a longer text or a smaller data.block_size"
            )
        self.train_tokens = tokens[:num_train]
        self.val_tokens = tokens[num_train:]

    @property
    def vocab_size(self) -> int:
        """V of the tokenizer."""
        return self.tokenizer.vocab_size

    def train_dataloader(self) -> DataLoader:
        sampler = WindowSampler(
            self.train_tokens, block_size=self.block_size, batch_size=self.batch_size
        )
        # the loader has its own generator: creating its iterator must not draw from the
        # global RNG (dropout)
        return stream_loader(
            sampler, seed=self.seed, trainer=self.trainer, num_workers=self.num_workers
        )

    def val_windows(self) -> tuple[Tensor, Tensor]:
        """Validation inputs and targets (num_windows, L), every ``val_stride`` tokens."""
        starts = torch.arange(0, self.val_tokens.numel() - self.block_size, self.val_stride)
        index = starts[:, None] + torch.arange(self.block_size + 1)
        window = self.val_tokens[index]
        return window[:, :-1], window[:, 1:]

    def val_dataloader(self) -> DataLoader:
        return DataLoader(
            TensorDataset(*self.val_windows()),
            batch_size=self.batch_size,
            shuffle=False,
            num_workers=self.num_workers,
            generator=torch.Generator(),
        )

    def export(self, directory: str | Path) -> Path:
        """Write ``tokenizer.json`` into the exported model folder."""
        return TextGenerator.write_extras(directory, tokenizer=self.tokenizer)


class LMSystem(ModelSystem):
    """Next-token cross-entropy of a causal language model ``(B, L) → logits (B, L, V)``."""

    def compute_loss(self, batch: tuple[Tensor, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        inputs, targets = batch  # (B, L), (B, L)
        logits = self.model(inputs)  # (B, L, V)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1))
        return loss, {"bits_per_token": loss.detach() / math.log(2)}


def _data_module(config: dict[str, Any], data: dict[str, Any]) -> TextDataModule:
    if data["text_path"] is None:
        raise ParameterError("data.text_path=None: give the text file (--text FILE)")
    return TextDataModule(data.pop("text_path"), seed=config["seed"], **data)


def _model_kwargs(
    config: dict[str, Any], data: dict[str, Any], datamodule: TextDataModule
) -> dict[str, Any]:
    """``vocab_size`` from the tokenizer; ``max_seq_len`` defaults to ``data.block_size``."""
    kwargs = dict(config["model"]["kwargs"])
    if kwargs.setdefault("vocab_size", datamodule.vocab_size) != datamodule.vocab_size:
        raise ParameterError(
            f"model.kwargs.vocab_size={kwargs['vocab_size']!r} must equal the tokenizer's "
            f"vocab_size={datamodule.vocab_size} (leave it unset)"
        )
    kwargs.setdefault("max_seq_len", datamodule.block_size)
    if kwargs["max_seq_len"] < datamodule.block_size:
        raise ParameterError(
            f"model.kwargs.max_seq_len={kwargs['max_seq_len']!r} must be >= "
            f"data.block_size={datamodule.block_size}"
        )
    if not config["model"]["name"]:
        raise ParameterError("model.name=None must name a registered language model")
    return kwargs


def _announce(system: LMSystem, datamodule: TextDataModule, config: dict[str, Any]) -> None:
    log.info(
        "training %s (%d parameters) on %d tokens, vocab_size=%d",
        config["model"]["name"],
        system.model.num_parameters,
        datamodule.train_tokens.numel(),
        datamodule.vocab_size,
    )


#: the language-model task (``synesthesia lm train``; pipeline: :class:`TextGenerator`)
LM_TASK = Task(
    name="lm",
    defaults=LM_DEFAULTS,
    data_module=_data_module,
    model_kwargs=_model_kwargs,
    system=LMSystem,
    pipeline=TextGenerator,
    role="a language model",
    endless=(
        "language models train on an endless stream of random windows",
        " of a language model",
    ),
    announce=_announce,
)


def train_lm(config: dict[str, Any], *, callbacks: Sequence[Any] = ()) -> FitResult:
    """Train a language model as ``config`` (see :data:`LM_DEFAULTS`) says; export it.

    ``model.kwargs.vocab_size`` comes from the tokenizer and ``model.kwargs.max_seq_len``
    defaults to ``data.block_size`` (:data:`LM_TASK` through
    :func:`~synesthesia.training.task.train`).
    """
    return train(LM_TASK, config, callbacks=callbacks)
