"""Show, Attend and Tell: image captioning with soft visual attention (Xu et al. 2015).

A CNN encoder turns the image into P annotation vectors a_i (B, P, D_enc). An LSTM decoder,
started from the mean annotation (``h_0 = init_h(mean a)``, ``c_0 = init_c(mean a)``),
attends at every step with additive attention, gates the context with ``β = σ(f_β(h))`` and
predicts the next word with the deep output layer
``p(y_t) ∝ exp(L_o(E y_{t-1} + L_h h_t + L_z ẑ_t))``. Training adds the doubly stochastic
regulariser ``λ Σ_p (1 − Σ_t α_tp)²`` (mean over the batch) to the cross-entropy.

References:
    Xu et al., "Show, Attend and Tell: Neural Image Caption Generation with Visual Attention",
    ICML 2015 (and the authors' arctic-captions code: regulariser summed over regions);
    sgrvinod, a-PyTorch-Tutorial-to-Image-Captioning (init_h/init_c, f_beta gate).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from synesthesia.errors import ParameterError
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.models.base import PretrainedModel
from synesthesia.models.caption_search import (
    CaptionOutput,
    GridCaptionerMixin,
    check_captions,
    decode_captions,
)
from synesthesia.models.registry import register_model
from synesthesia.nn.attention import AdditiveAttention
from synesthesia.nn.resnet import ImageEncoder

__all__ = ["ShowAttendTell"]


class ShowAttendTell(GridCaptionerMixin, PretrainedModel):
    """Image captioner with a ResNet encoder and an attentive LSTM decoder.

    Args:
        vocab_size: V, including the special tokens.
        encoder_layout: ResNet layout of the encoder ("tiny", "resnet18", "resnet34",
            "resnet50").
        grid_size: annotation grid (int or (rows, columns)); P = rows × columns.
        in_channels: C of the input images.
        embed_dim: E, word embedding width (also the deep-output width).
        decoder_dim: D_dec, LSTM width.
        attention_dim: hidden width of the additive attention.
        dropout: dropout before the output layer L_o (training only).
        alpha_regularization: λ of the doubly stochastic regulariser.
        position_embedding: add a learned vector per grid region to the annotations (not in
            the paper; CNN features carry little absolute position, which tasks with a
            reading order, such as digit strips, need).
        pad_id: id of ``<pad>`` (ignored by the loss).
        start_id: id of ``<start>``.
        end_id: id of ``<end>``.

    Shapes:
        forward: images (B, C, H, W), captions (B, L) starting with ``<start>``,
        caption_lengths (B,) counting ``<start>`` and ``<end>`` → logits (B, L - 1, V) predicting
        ``captions[:, 1:]`` and attention weights alphas (B, L - 1, P) (zero past each length).
    """

    architecture = "show_attend_tell"

    def __init__(
        self,
        vocab_size: int,
        *,
        encoder_layout: str = "resnet18",
        grid_size: int | Sequence[int] = 14,
        in_channels: int = 3,
        embed_dim: int = 512,
        decoder_dim: int = 512,
        attention_dim: int = 512,
        dropout: float = 0.5,
        alpha_regularization: float = 1.0,
        position_embedding: bool = False,
        pad_id: int = 0,
        start_id: int = 1,
        end_id: int = 2,
    ) -> None:
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("embed_dim", embed_dim),
            ("decoder_dim", decoder_dim),
            ("attention_dim", attention_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if not 0.0 <= dropout < 1.0:
            raise ParameterError(f"dropout={dropout!r} must be a probability in [0, 1)")
        if alpha_regularization < 0:
            raise ParameterError(f"alpha_regularization={alpha_regularization!r} must be >= 0")
        for name, value in (("pad_id", pad_id), ("start_id", start_id), ("end_id", end_id)):
            if not 0 <= value < vocab_size:
                raise ParameterError(f"{name}={value!r} must be a token id below {vocab_size}")
        self.vocab_size, self.embed_dim = vocab_size, embed_dim
        self.decoder_dim, self.attention_dim = decoder_dim, attention_dim
        self.encoder_layout, self.in_channels = encoder_layout, in_channels
        self.dropout_p, self.alpha_regularization = dropout, alpha_regularization
        self.pad_id, self.start_id, self.end_id = pad_id, start_id, end_id

        self.encoder = ImageEncoder(encoder_layout, grid_size=grid_size, in_channels=in_channels)
        self.grid_size = self.encoder.grid_size
        encoder_dim = self.encoder_dim = self.encoder.encoder_dim
        self.position_embedding = (
            nn.Parameter(torch.zeros(self.encoder.num_regions, encoder_dim))
            if position_embedding
            else None
        )
        if self.position_embedding is not None:
            nn.init.normal_(self.position_embedding, std=0.1)
        self.attention = AdditiveAttention(
            encoder_dim=encoder_dim, decoder_dim=decoder_dim, attention_dim=attention_dim
        )
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.init_h = nn.Linear(encoder_dim, decoder_dim)
        self.init_c = nn.Linear(encoder_dim, decoder_dim)
        self.f_beta = nn.Linear(decoder_dim, 1)
        self.lstm = nn.LSTMCell(embed_dim + encoder_dim, decoder_dim)
        self.output_state = nn.Linear(decoder_dim, embed_dim)  # L_h
        self.output_context = nn.Linear(encoder_dim, embed_dim, bias=False)  # L_z
        self.output = nn.Linear(embed_dim, vocab_size)  # L_o
        self.dropout = nn.Dropout(dropout)
        nn.init.uniform_(self.embedding.weight, -0.1, 0.1)

    def get_config(self) -> dict[str, Any]:
        return {
            "vocab_size": self.vocab_size,
            "encoder_layout": self.encoder_layout,
            "grid_size": list(self.grid_size),
            "in_channels": self.in_channels,
            "embed_dim": self.embed_dim,
            "decoder_dim": self.decoder_dim,
            "attention_dim": self.attention_dim,
            "dropout": self.dropout_p,
            "alpha_regularization": self.alpha_regularization,
            "position_embedding": self.position_embedding is not None,
            "pad_id": self.pad_id,
            "start_id": self.start_id,
            "end_id": self.end_id,
        }

    # -- pieces shared by training and decoding -------------------------------------------

    def encode(self, images: Tensor) -> Tensor:
        """Annotations (B, P, D_enc) of images (B, C, H, W)."""
        annotations = self.encode_images(images)  # (B, P, D_enc)
        if self.position_embedding is not None:
            annotations = annotations + self.position_embedding.to(annotations.dtype)
        return annotations

    def project_annotations(self, annotations: Tensor) -> Tensor:
        """The attention's projection of annotations (B, P, D_enc) → (B, P, A), once per image."""
        return self.attention.project_annotations(annotations)

    def init_state(
        self, annotations: Tensor, *, max_length: int | None = None, use_cache: bool = True
    ) -> tuple[Tensor, Tensor]:
        """Initial LSTM state (h, c), each (B, D_dec), from the mean annotation.

        ``max_length`` and ``use_cache`` belong to the decoding protocol of
        :mod:`~synesthesia.models.caption_search` and change nothing here: an LSTM's fixed-size
        state already carries the whole past, there is no cache to switch off.
        """
        mean = annotations.mean(dim=1)
        return self.init_h(mean), self.init_c(mean)

    @staticmethod
    def reorder_state(state: tuple[Tensor, Tensor], rows: Tensor) -> tuple[Tensor, Tensor]:
        """Rows ``rows`` (B',) of the state (h, c): beam search follows each beam's parent."""
        return state[0][rows], state[1][rows]

    def step(
        self,
        tokens: Tensor,
        state: tuple[Tensor, Tensor],
        annotations: Tensor,
        projected: Tensor,
    ) -> tuple[Tensor, tuple[Tensor, Tensor], Tensor]:
        """One decoding step.

        Args:
            tokens: previous words y_{t-1} (B,).
            state: (h, c) of the previous step, each (B, D_dec).
            annotations: (B, P, D_enc).
            projected: ``self.attention.project_annotations(annotations)`` (B, P, A).

        Returns:
            logits (B, V) of y_t, the new state, attention weights α_t (B, P).
        """
        h, c = state
        embedded = self.embedding(tokens)  # (B, E)
        context, alpha = self.attention(annotations, h, projected=projected)  # (B, D_enc), (B, P)
        gated = torch.sigmoid(self.f_beta(h)) * context  # ẑ_t = β ⊙ context
        h, c = self.lstm(torch.cat([embedded, gated], dim=1), (h, c))
        deep = embedded + self.output_state(h) + self.output_context(gated)  # (B, E)
        return self.output(self.dropout(deep)), (h, c), alpha

    # -- training -----------------------------------------------------------------------

    def _check_captions(self, captions: Tensor, caption_lengths: Tensor, batch: int) -> None:
        check_captions(captions, caption_lengths, batch)

    def forward(
        self, images: Tensor, captions: Tensor, caption_lengths: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Teacher-forced decoding over a length-masked batch.

        Returns:
            logits (B, L - 1, V) and alphas (B, L - 1, P); both are zero past
            ``caption_lengths - 1`` steps.
        """
        annotations = self.encode(images)
        batch = annotations.shape[0]
        self._check_captions(captions, caption_lengths, batch)
        projected = self.attention.project_annotations(annotations)
        state = self.init_state(annotations)
        num_steps = captions.shape[1] - 1
        valid = lengths_to_mask(
            caption_lengths.to(captions.device) - 1, max_length=num_steps
        )  # (B, L - 1)
        logits, alphas = [], []
        for t in range(num_steps):
            step_logits, state, alpha = self.step(captions[:, t], state, annotations, projected)
            logits.append(step_logits)
            alphas.append(alpha)
        mask = valid.unsqueeze(-1).to(annotations.dtype)
        return torch.stack(logits, 1) * mask, torch.stack(alphas, 1) * mask

    def loss(
        self,
        logits: Tensor,
        alphas: Tensor,
        captions: Tensor,
        caption_lengths: Tensor,
    ) -> dict[str, Tensor]:
        """Cross-entropy over valid target words plus the doubly stochastic regulariser.

        Args:
            logits: (B, L - 1, V) from :meth:`forward`.
            alphas: (B, L - 1, P) from :meth:`forward`.
            captions: (B, L), the same captions.
            caption_lengths: (B,).

        Returns:
            ``{"loss", "cross_entropy", "attention_regularization"}`` (scalars); the
            cross-entropy is the mean over valid target tokens, the regulariser
            ``λ Σ_p (1 − Σ_t α_tp)²`` the mean over the batch.
        """
        targets = captions[:, 1:]
        steps = targets.shape[1]
        valid = lengths_to_mask(caption_lengths.to(targets.device) - 1, max_length=steps)
        cross_entropy = F.cross_entropy(logits[valid], targets[valid])
        regularization = ((1.0 - alphas.sum(dim=1)) ** 2).sum(dim=1).mean()
        total = cross_entropy + self.alpha_regularization * regularization
        return {
            "loss": total,
            "cross_entropy": cross_entropy,
            "attention_regularization": regularization,
        }

    # -- inference ------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        images: Tensor,
        *,
        beam_size: int = 1,
        max_length: int = 20,
        length_normalization: bool = False,
    ) -> CaptionOutput:
        """Caption images (B, C, H, W): greedy (``beam_size=1``) or batched beam search.

        Returns:
            :class:`CaptionOutput` with tokens (B, L) (without ``<start>``, ending with
            ``<end>`` when one was produced, padded with ``pad_id``), lengths (B,), scores
            (B,) (sum of log-probabilities, divided by the length with
            ``length_normalization``) and alphas (B, L, P).
        """
        return decode_captions(
            self,
            images,
            beam_size=beam_size,
            max_length=max_length,
            length_normalization=length_normalization,
        )


register_model(
    "sat_tiny",
    ShowAttendTell,
    vocab_size=14,
    encoder_layout="tiny",
    grid_size=(2, 8),
    embed_dim=32,
    decoder_dim=64,
    attention_dim=32,
    dropout=0.0,
    alpha_regularization=0.1,
    position_embedding=True,
)
register_model("sat_resnet18", ShowAttendTell, vocab_size=10000, encoder_layout="resnet18")
register_model("sat_resnet50", ShowAttendTell, vocab_size=10000, encoder_layout="resnet50")
