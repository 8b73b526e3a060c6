"""Text → continuation, from an exported language-model folder (no Lightning).

The folder (written by ``synesthesia lm train``) holds ``config.json`` + ``model.safetensors``
(a :class:`~synesthesia.models.GPT`) and ``tokenizer.json`` (characters or UTF-8 bytes).

Example:
    >>> lm = TextGenerator.from_pretrained("runs/lm/model")
    >>> lm.generate("ROMEO:", max_new_tokens=100, temperature=0.8, seed=0)

References:
    Radford et al. 2019 (GPT-2); Karpathy, nanoGPT (``sample.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from synesthesia.errors import ParameterError
from synesthesia.models import GPT
from synesthesia.pipelines._folder import load_model_folder, require_file, seal_folder
from synesthesia.text.tokenizer import TOKENIZER_NAME, load_tokenizer

__all__ = ["TOKENIZER_NAME", "TextGenerator"]


class TextGenerator:
    """A GPT with its tokenizer.

    Args:
        model: the language model (put in eval mode).
        tokenizer: the tokenizer it was trained with (``ByteTokenizer`` or ``CharTokenizer``).
    """

    def __init__(self, model: GPT, tokenizer: Any) -> None:
        self.model, self.tokenizer = model.eval(), tokenizer

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike, *, flag: str = "model") -> TextGenerator:
        """Load an exported language-model folder (``flag``: how errors name the folder)."""
        model = load_model_folder(directory, GPT, refusal=" model, not 'gpt'", flag=flag)
        require_file(directory, TOKENIZER_NAME, flag=flag)
        return cls(model, load_tokenizer(directory))

    @staticmethod
    def write_extras(directory: str | os.PathLike, *, tokenizer: Any) -> Path:
        """Write ``tokenizer.json`` into a model folder."""
        return tokenizer.save(Path(directory))

    def save_pretrained(self, directory: str | os.PathLike) -> Path:
        """Write the folder :meth:`from_pretrained` reads (model + ``tokenizer.json``)."""
        directory = Path(self.model.save_pretrained(directory))
        self.write_extras(directory, tokenizer=self.tokenizer)
        return seal_folder(directory)

    def generate(
        self,
        prompt: str,
        *,
        max_new_tokens: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        seed: int = 0,
    ) -> str:
        """The prompt followed by ``max_new_tokens`` sampled tokens, decoded.

        ``temperature=0`` is greedy; ``top_k`` samples among the K likeliest tokens; the
        sampling generator is seeded with ``seed``.
        """
        if not prompt:
            raise ParameterError("prompt='' must be non-empty text")
        if max_new_tokens < 0:
            raise ParameterError(f"max_new_tokens={max_new_tokens} must be >= 0")
        ids = torch.tensor([self.tokenizer.encode(prompt)], dtype=torch.long)
        generator = torch.Generator().manual_seed(seed)
        out = self.model.generate(
            ids,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            generator=generator,
        )
        return self.tokenizer.decode(out[0].tolist())
