"""GPT: a decoder-only Transformer language model (nanoGPT-like, readable top to bottom).

token ids (B, L) → token + learned position embeddings → num_layers pre-norm causal blocks
→ final LayerNorm → tied output projection → logits (B, L, V).

References:
    Radford et al., "Improving Language Understanding by Generative Pre-Training", 2018;
    Radford et al., "Language Models are Unsupervised Multitask Learners", 2019 (GPT-2:
    pre-norm, final LayerNorm, scaled residual init); Karpathy, nanoGPT (structure, init,
    generate with temperature and top-k).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model
from synesthesia.nn.positional import LearnedPositionalEncoding
from synesthesia.nn.transformer import TransformerCache, TransformerEncoder

__all__ = ["GPT"]


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ParameterError(f"{name}={value!r} must be a positive integer")
    return value


class GPT(PretrainedModel):
    """Decoder-only Transformer language model.

    Args:
        vocab_size: V.
        max_seq_len: longest context (learned positions).
        embed_dim: D.
        num_layers: number of Transformer blocks.
        num_heads: H (must divide D).
        ff_dim: feed-forward width; defaults to ``mlp_ratio · D``.
        mlp_ratio: feed-forward width as a multiple of D when ``ff_dim`` is None.
        dropout: dropout on embeddings, attention weights and residual branches.
        tie_weights: share the token embedding with the output projection.

    References:
        Radford et al. 2018/2019 (GPT, GPT-2); Karpathy, nanoGPT.
    """

    architecture = "gpt"

    def __init__(
        self,
        *,
        vocab_size: int,
        max_seq_len: int = 256,
        embed_dim: int = 64,
        num_layers: int = 2,
        num_heads: int = 4,
        ff_dim: int | None = None,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
        tie_weights: bool = True,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("max_seq_len", max_seq_len),
            ("embed_dim", embed_dim),
            ("num_layers", num_layers),
            ("num_heads", num_heads),
        ):
            _positive(name, value)
        if embed_dim % num_heads:
            raise ParameterError(
                f"embed_dim={embed_dim} must be divisible by num_heads={num_heads}"
            )
        if ff_dim is None:
            if not isinstance(mlp_ratio, (int, float)) or mlp_ratio <= 0:
                raise ParameterError(f"mlp_ratio={mlp_ratio!r} must be a positive number")
            ff_dim = max(1, int(round(mlp_ratio * embed_dim)))
        _positive("ff_dim", ff_dim)
        self.vocab_size, self.max_seq_len, self.embed_dim = vocab_size, max_seq_len, embed_dim
        self.num_layers, self.num_heads, self.ff_dim = num_layers, num_heads, ff_dim
        self.mlp_ratio, self.dropout, self.tie_weights = mlp_ratio, dropout, tie_weights

        self.token_embedding = nn.Embedding(vocab_size, embed_dim)
        self.position = LearnedPositionalEncoding(max_seq_len, embed_dim, dropout=dropout)
        self.blocks = TransformerEncoder(
            num_layers,
            embed_dim,
            num_heads,
            ff_dim=ff_dim,
            dropout=dropout,
            activation="gelu",
            norm_first=True,
            final_norm=True,
        )
        self.lm_head = nn.Linear(embed_dim, vocab_size, bias=False)
        self._init_weights()
        if tie_weights:
            self.lm_head.weight = self.token_embedding.weight

    def _init_weights(self) -> None:
        # GPT-2 / nanoGPT: N(0, 0.02), zero biases, residual projections N(0, 0.02/sqrt(2·n))
        for module in self.modules():
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        residual_std = 0.02 / math.sqrt(2 * self.num_layers)
        for block in self.blocks.layers:
            nn.init.normal_(block.self_attn.out_proj.weight, mean=0.0, std=residual_std)
            nn.init.normal_(block.linear2.weight, mean=0.0, std=residual_std)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "vocab_size": self.vocab_size,
            "max_seq_len": self.max_seq_len,
            "embed_dim": self.embed_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "mlp_ratio": self.mlp_ratio,
            "dropout": self.dropout,
            "tie_weights": self.tie_weights,
        }

    def example_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of :meth:`forward` for smoke tests (docs/architecture.md)."""
        generator = torch.Generator().manual_seed(0)
        ids = torch.randint(
            0, self.vocab_size, (batch_size, min(8, self.max_seq_len)), generator=generator
        )
        return {"input_ids": ids.to(self.token_embedding.weight.device)}

    def example_generate_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of :meth:`generate` for smoke tests (docs/architecture.md)."""
        prompt = self.example_inputs(batch_size)["input_ids"][:, :2]
        return {"prompt_ids": prompt, "max_new_tokens": 3}

    def new_cache(
        self,
        batch_size: int,
        *,
        max_length: int | None = None,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> TransformerCache:
        """A preallocated KV cache for :meth:`forward` / :meth:`generate`.

        Args:
            batch_size: B.
            max_length: capacity in positions (default and maximum ``max_seq_len``).
            device: device (default: the model's).
            dtype: dtype (default: the model's).
        """
        _positive("batch_size", batch_size)
        max_length = self.max_seq_len if max_length is None else max_length
        _positive("max_length", max_length)
        if max_length > self.max_seq_len:
            raise ParameterError(
                f"max_length={max_length} must not exceed max_seq_len={self.max_seq_len}"
            )
        weight = self.token_embedding.weight
        return self.blocks.new_cache(
            batch_size,
            max_length,
            device=weight.device if device is None else device,
            dtype=weight.dtype if dtype is None else dtype,
        )

    def _check_ids(self, ids: Tensor, name: str) -> None:
        if not isinstance(ids, Tensor) or ids.ndim != 2:
            shape = tuple(ids.shape) if isinstance(ids, Tensor) else type(ids).__name__
            raise ParameterError(f"{name} with shape {shape} must be a (B, L) tensor")
        if ids.dtype not in (torch.int64, torch.int32):
            raise ParameterError(f"{name} dtype={ids.dtype} must be torch.long")
        if ids.shape[1] == 0 or ids.shape[0] == 0:
            raise ParameterError(f"empty sequence: {name} with shape {tuple(ids.shape)}")
        low, high = int(ids.min()), int(ids.max())
        if low < 0 or high >= self.vocab_size:
            raise ParameterError(
                f"{name} values in [{low}, {high}] must lie in [0, vocab_size={self.vocab_size})"
            )

    def forward(self, input_ids: Tensor, *, cache: TransformerCache | None = None) -> Tensor:
        """Next-token logits for every position (teacher forcing).

        Args:
            input_ids: LongTensor (B, L). With a cache, the new tokens after the cached ones.
            cache: from :meth:`new_cache`; positions continue from ``cache.length`` and the
                new keys/values are appended (use under ``torch.no_grad()``).

        Returns:
            logits (B, L, V).

        Raises:
            ParameterError: bad ids, or more than ``max_seq_len`` positions in all.
        """
        self._check_ids(input_ids, "input_ids")
        offset = 0 if cache is None else cache.length
        length = input_ids.shape[1]
        if offset + length > self.max_seq_len:
            raise ParameterError(
                f"input_ids length {length} after {offset} cached positions exceeds "
                f"max_seq_len={self.max_seq_len}"
            )
        x = self.token_embedding(input_ids)  # (B, L, D)
        x = self.position(x, offset=offset)  # (B, L, D)
        x = self.blocks(x, causal=True, cache=cache)  # (B, L, D), final LayerNorm included
        return self.lm_head(x)  # (B, L, V)

    def _next_token(
        self, logits: Tensor, temperature: float, top_k: int | None, generator
    ) -> Tensor:
        logits = logits.float()  # (B, V)
        if temperature == 0:
            return logits.argmax(dim=-1, keepdim=True)
        logits = logits / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = F.softmax(logits, dim=-1)
        return torch.multinomial(probs, num_samples=1, generator=generator)  # (B, 1)

    @torch.no_grad()
    def generate(
        self,
        prompt_ids: Tensor,
        *,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        use_cache: bool = True,
        generator: torch.Generator | None = None,
    ) -> Tensor:
        """Sample a continuation of ``prompt_ids`` token by token.

        The model is put in eval mode for the call (dropout off) and restored after. With
        ``use_cache`` each step runs only the new token through the network; once the cache
        is full (context longer than ``max_seq_len``) it continues without cache on the last
        ``max_seq_len`` tokens, exactly like the uncached path.

        Args:
            prompt_ids: LongTensor (B, L0), L0 ≥ 1.
            max_new_tokens: number of tokens to append (≥ 0).
            temperature: softmax temperature; 0 = greedy (argmax).
            top_k: sample only among the k most likely tokens (None = all).
            use_cache: use a KV cache (much faster; same result).
            generator: random generator for sampling.

        Returns:
            LongTensor (B, L0 + max_new_tokens).
        """
        self._check_ids(prompt_ids, "prompt_ids")
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int):
            raise ParameterError(f"max_new_tokens={max_new_tokens!r} must be an integer ≥ 0")
        if max_new_tokens < 0:
            raise ParameterError(f"max_new_tokens={max_new_tokens!r} must be an integer ≥ 0")
        if (
            isinstance(temperature, bool)
            or not isinstance(temperature, (int, float))
            or not 0 <= temperature < math.inf
        ):
            raise ParameterError(f"temperature={temperature!r} must be a finite number ≥ 0")
        if top_k is not None and (
            isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 0
        ):
            raise ParameterError(f"top_k={top_k!r} must be a positive integer or None")
        if top_k is not None and top_k >= self.vocab_size:
            warnings.warn(
                f"top_k={top_k} >= vocab_size={self.vocab_size} keeps every token",
                stacklevel=2,
            )
        was_training = self.training
        self.eval()
        try:
            ids = prompt_ids.long()
            cache = None
            if use_cache and max_new_tokens > 0:
                context = ids[:, -self.max_seq_len :]
                capacity = min(self.max_seq_len, context.shape[1] + max_new_tokens)
                cache = self.new_cache(ids.shape[0], max_length=capacity)
                logits = self(context, cache=cache)[:, -1]
            for step in range(max_new_tokens):
                if cache is None:
                    logits = self(ids[:, -self.max_seq_len :])[:, -1]
                next_id = self._next_token(logits, temperature, top_k, generator)  # (B, 1)
                ids = torch.cat([ids, next_id], dim=1)
                if cache is not None and step + 1 < max_new_tokens:
                    if cache.length < cache.max_length:
                        logits = self(next_id, cache=cache)[:, -1]
                    else:
                        cache = None  # context longer than max_seq_len: crop like the uncached path
            return ids
        finally:
            self.train(was_training)


register_model(
    "gpt_tiny",
    GPT,
    vocab_size=256,
    max_seq_len=256,
    embed_dim=64,
    num_layers=2,
    num_heads=4,
    ff_dim=256,
    dropout=0.0,
)
register_model(
    "gpt_small",
    GPT,
    vocab_size=256,
    max_seq_len=512,
    embed_dim=384,
    num_layers=6,
    num_heads=6,
    ff_dim=1536,
    dropout=0.1,
)
