"""Tacotron 2: token ids → mel-spectrogram with location-sensitive attention (Shen et al. 2018).

tokens (B, L) → embedding → 3 × (conv, BatchNorm, ReLU, dropout) → BiLSTM → memory (B, L, D)
→ per decoder step: pre-net (2 × Linear+ReLU, dropout always on) on the previous frame →
attention LSTM → location-sensitive attention → decoder LSTM → ``reduction_factor`` = r mel
frames and r stop logits → after all steps a residual 5-conv post-net refines the mel.

Padding: encoder convolutions zero padded tokens before each layer and the BiLSTM runs on
packed sequences; attention masks padded tokens; the post-net zeroes frames past
``mel_lengths`` before each convolution. In eval mode (BatchNorm running statistics) valid
outputs of a padded batch equal those of each item alone.

References:
    Shen et al., "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram
    Predictions", 2018; NVIDIA/tacotron2 ``model.py`` (layer layout, go frame, gate loss);
    Tachibana et al., "Efficiently Trainable Text-to-Speech System Based on Deep Convolutional
    Networks with Guided Attention", 2017 (guided-attention loss).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.models.base import PretrainedModel
from synesthesia.models.registry import register_model
from synesthesia.nn.location_attention import LocationSensitiveAttention

__all__ = ["Tacotron2", "guided_attention_weights"]


def guided_attention_weights(
    token_lengths: Tensor, step_lengths: Tensor, *, num_steps: int, num_tokens: int,
    sigma: float = 0.2,
) -> Tensor:  # fmt: skip
    """Penalty W (B, N_steps, L) = 1 - exp(-(l/L_b - n/N_b)² / (2σ²)), 0 outside valid cells.

    References:
        Tachibana et al. 2017, eq. (guided attention loss).
    """
    n = torch.arange(num_steps, device=token_lengths.device, dtype=torch.float32)
    ell = torch.arange(num_tokens, device=token_lengths.device, dtype=torch.float32)
    rows = n.view(1, -1, 1) / step_lengths.clamp(min=1).view(-1, 1, 1).float()
    cols = ell.view(1, 1, -1) / token_lengths.clamp(min=1).view(-1, 1, 1).float()
    weights = 1.0 - torch.exp(-((cols - rows) ** 2) / (2.0 * sigma**2))
    valid = lengths_to_mask(step_lengths, max_length=num_steps).unsqueeze(2) & lengths_to_mask(
        token_lengths, max_length=num_tokens
    ).unsqueeze(1)
    return weights * valid


class _ConvBlock(nn.Sequential):
    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv1d(in_channels, out_channels, kernel_size, padding=kernel_size // 2),
            nn.BatchNorm1d(out_channels),
        )


class Tacotron2(PretrainedModel):
    """Tacotron 2 acoustic model.

    Args:
        audio_config: the mel analysis of the targets; ``M = audio_config.n_mels``.
        num_symbols: V, size of the symbol table (id 0 is padding).
        embedding_dim: token embedding and encoder width D (even).
        encoder_kernel_size: kernel of the 3 encoder convolutions.
        attention_dim: width of the attention scoring layer.
        location_channels: channels of the attention's location convolution.
        location_kernel_size: kernel of the location convolution (odd).
        prenet_dim: width of the two pre-net layers.
        decoder_dim: width of the attention LSTM and the decoder LSTM.
        postnet_channels: channels of the post-net convolutions.
        postnet_kernel_size: kernel of the post-net convolutions.
        reduction_factor: r, mel frames emitted per decoder step.
        dropout: dropout after encoder and post-net convolutions and on LSTM outputs.
        prenet_dropout: pre-net dropout, applied in training AND inference (as in the paper);
            in eval mode decoder step ``n`` uses a mask drawn from ``inference_seed`` and ``n``
            alone, shared by the batch (so outputs reproduce and batches equal single items).
    """

    architecture = "tacotron2"

    def __init__(
        self, *, audio_config: AudioConfig | None = None, num_symbols: int = 79,
        embedding_dim: int = 512, encoder_kernel_size: int = 5, attention_dim: int = 128,
        location_channels: int = 32, location_kernel_size: int = 31, prenet_dim: int = 256,
        decoder_dim: int = 1024, postnet_channels: int = 512, postnet_kernel_size: int = 5,
        reduction_factor: int = 1, dropout: float = 0.5, prenet_dropout: float = 0.5,
    ) -> None:  # fmt: skip
        super().__init__()
        audio_config = AudioConfig() if audio_config is None else audio_config
        if not isinstance(audio_config, AudioConfig):
            raise ParameterError(f"audio_config={audio_config!r} must be an AudioConfig")
        sizes = {
            "num_symbols": num_symbols, "embedding_dim": embedding_dim,
            "encoder_kernel_size": encoder_kernel_size, "attention_dim": attention_dim,
            "location_channels": location_channels, "location_kernel_size": location_kernel_size,
            "prenet_dim": prenet_dim, "decoder_dim": decoder_dim,
            "postnet_channels": postnet_channels, "postnet_kernel_size": postnet_kernel_size,
            "reduction_factor": reduction_factor,
        }  # fmt: skip
        for name, value in sizes.items():
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        for name, value in (("encoder_kernel_size", encoder_kernel_size),
                            ("postnet_kernel_size", postnet_kernel_size)):  # fmt: skip
            if value % 2 == 0:
                raise ParameterError(f"{name}={value} must be odd")
        if embedding_dim % 2:
            raise ParameterError(f"embedding_dim={embedding_dim} must be even (BiLSTM halves)")
        for name, value in (("dropout", dropout), ("prenet_dropout", prenet_dropout)):
            if not 0.0 <= float(value) < 1.0:
                raise ParameterError(f"{name}={value!r} must be in [0, 1)")
        self.audio_config = audio_config
        self.n_mels = audio_config.n_mels
        self._config = dict(sizes, dropout=float(dropout), prenet_dropout=float(prenet_dropout))
        self.reduction_factor = reduction_factor
        self.dropout = float(dropout)
        self.prenet_dropout = float(prenet_dropout)
        #: seed of the pre-net dropout masks in eval mode (forward and infer reproduce)
        self.inference_seed = 0
        # encoder
        self.embedding = nn.Embedding(num_symbols, embedding_dim, padding_idx=0)
        self.encoder_convolutions = nn.ModuleList(
            _ConvBlock(embedding_dim, embedding_dim, encoder_kernel_size) for _ in range(3)
        )
        self.encoder_lstm = nn.LSTM(
            embedding_dim, embedding_dim // 2, batch_first=True, bidirectional=True
        )
        # decoder
        self.prenet = nn.ModuleList(
            [nn.Linear(self.n_mels, prenet_dim), nn.Linear(prenet_dim, prenet_dim)]
        )
        self.attention_rnn = nn.LSTMCell(prenet_dim + embedding_dim, decoder_dim)
        self.attention = LocationSensitiveAttention(
            query_dim=decoder_dim, memory_dim=embedding_dim, attention_dim=attention_dim,
            location_channels=location_channels, location_kernel_size=location_kernel_size,
        )  # fmt: skip
        self.decoder_rnn = nn.LSTMCell(decoder_dim + embedding_dim, decoder_dim)
        self.mel_projection = nn.Linear(decoder_dim + embedding_dim, self.n_mels * reduction_factor)
        self.stop_projection = nn.Linear(decoder_dim + embedding_dim, reduction_factor)
        # post-net: 5 convolutions, tanh after all but the last
        channels = [self.n_mels] + [postnet_channels] * 4 + [self.n_mels]
        self.postnet = nn.ModuleList(
            _ConvBlock(channels[i], channels[i + 1], postnet_kernel_size) for i in range(5)
        )

    def get_config(self) -> dict[str, Any]:
        return {"audio_config": self.audio_config, **self._config}

    # ----------------------------------------------------------------- encoder
    def encode(self, tokens: Tensor, token_lengths: Tensor) -> Tensor:
        """tokens (B, L), token_lengths (B,) → memory (B, L, D), zero at padded tokens."""
        mask = lengths_to_mask(token_lengths, max_length=tokens.shape[1]).unsqueeze(1)  # (B, 1, L)
        x = self.embedding(tokens).transpose(1, 2)  # (B, D, L)
        for block in self.encoder_convolutions:
            x = F.dropout(F.relu(block(x * mask)), self.dropout, self.training)
        x = (x * mask).transpose(1, 2)  # (B, L, D)
        packed = pack_padded_sequence(x, token_lengths.cpu(), batch_first=True,
                                      enforce_sorted=False)  # fmt: skip
        memory, _ = self.encoder_lstm(packed)
        memory, _ = pad_packed_sequence(memory, batch_first=True, total_length=tokens.shape[1])
        return memory

    # ----------------------------------------------------------------- decoder
    def _prenet(self, frames: Tensor, masks: Tensor | None) -> Tensor:
        """Pre-net on frames (..., M); dropout always on, even in eval mode (Shen et al. 2018).

        ``masks`` None (training): fresh dropout. Otherwise keep-masks (..., 2, P) from
        :meth:`_eval_masks`, broadcast over the batch."""
        for index, layer in enumerate(self.prenet):
            frames = F.relu(layer(frames))
            if self.prenet_dropout == 0:
                continue
            if masks is None:
                frames = F.dropout(frames, self.prenet_dropout, training=True)
            else:
                frames = frames * masks[..., index, :] / (1.0 - self.prenet_dropout)
        return frames

    def _eval_masks(self, num_steps: int, device: torch.device) -> Tensor | None:
        """Eval-mode pre-net keep-masks (num_steps, 2, P), or None in training mode.

        Step ``n``'s mask depends only on ``inference_seed`` and ``n`` (not on the batch, nor
        on how many steps are decoded), so batched inference equals per-item inference and
        teacher-forced eval passes see the masks free-running inference sees."""
        if self.training:
            return None
        generator = torch.Generator().manual_seed(self.inference_seed)
        width = self.prenet[0].out_features
        uniforms = torch.rand((num_steps, 2, width), generator=generator)
        keep = uniforms >= self.prenet_dropout
        return keep.to(device=device, dtype=self.prenet[0].weight.dtype)

    def _initial_state(self, memory: Tensor) -> dict[str, Tensor]:
        batch, num_tokens, width = memory.shape
        zeros = memory.new_zeros
        hidden = self.attention_rnn.hidden_size
        return {
            "attention_h": zeros(batch, hidden), "attention_c": zeros(batch, hidden),
            "decoder_h": zeros(batch, hidden), "decoder_c": zeros(batch, hidden),
            "weights": zeros(batch, num_tokens), "cumulative": zeros(batch, num_tokens),
            "context": zeros(batch, width),
        }  # fmt: skip

    def _step(
        self, prenet_frame: Tensor, state: dict[str, Tensor], memory: Tensor,
        projected: Tensor, mask: Tensor,
    ) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
        """One decoder step → frames (B, M*r), stop logits (B, r), weights (B, L)."""
        h, c = self.attention_rnn(
            torch.cat([prenet_frame, state["context"]], -1),
            (state["attention_h"], state["attention_c"]),
        )  # fmt: skip
        # dropout 0.1 on LSTM outputs (NVIDIA/tacotron2; the paper uses zoneout 0.1)
        state["attention_h"], state["attention_c"] = F.dropout(h, 0.1, self.training), c
        context, weights = self.attention(
            state["attention_h"], memory, projected_memory=projected,
            previous_weights=state["weights"], cumulative_weights=state["cumulative"], mask=mask,
        )  # fmt: skip
        state["weights"], state["cumulative"] = weights, state["cumulative"] + weights
        state["context"] = context
        h, c = self.decoder_rnn(
            torch.cat([state["attention_h"], context], -1),
            (state["decoder_h"], state["decoder_c"]),
        )  # fmt: skip
        state["decoder_h"], state["decoder_c"] = F.dropout(h, 0.1, self.training), c
        features = torch.cat([state["decoder_h"], context], -1)
        return self.mel_projection(features), self.stop_projection(features), weights

    def _postnet(self, mel: Tensor, mel_lengths: Tensor) -> Tensor:
        """Residual post-net on mel (B, M, N), zeroing frames past mel_lengths before each conv."""
        mask = lengths_to_mask(mel_lengths, max_length=mel.shape[-1]).unsqueeze(1).to(mel.dtype)
        x = mel * mask
        for index, block in enumerate(self.postnet):
            x = block(x * mask)
            if index < len(self.postnet) - 1:
                x = torch.tanh(x)
            x = F.dropout(x, self.dropout, self.training)
        return (mel + x) * mask

    def _check(self, tokens: Tensor, token_lengths: Tensor) -> None:
        if tokens.ndim != 2 or tokens.dtype != torch.long:
            raise ParameterError(f"tokens with shape {tuple(tokens.shape)} and dtype "
                                 f"{tokens.dtype} must be a LongTensor (B, L)")  # fmt: skip
        if token_lengths.shape != tokens.shape[:1]:
            raise ParameterError(f"token_lengths with shape {tuple(token_lengths.shape)} must "
                                 f"be (B,) = ({tokens.shape[0]},)")  # fmt: skip
        if (token_lengths < 1).any() or (token_lengths > tokens.shape[1]).any():
            raise ParameterError(f"token_lengths={token_lengths.tolist()} must be in "
                                 f"[1, L={tokens.shape[1]}]")  # fmt: skip

    def forward(
        self, tokens: Tensor, token_lengths: Tensor, mel: Tensor, mel_lengths: Tensor, *,
        self_feeding: float = 0.0,
    ) -> dict[str, Tensor]:  # fmt: skip
        """Teacher-forced decoding (optionally with scheduled sampling).

        Args:
            tokens: LongTensor (B, L), padded with 0.
            token_lengths: LongTensor (B,).
            mel: target log-mel (B, M, N).
            mel_lengths: LongTensor (B,), valid frames of each target.
            self_feeding: probability, drawn per step and item from the global RNG, that the
                decoder input is the model's own previous frame (detached) instead of the
                target's: scheduled sampling (Bengio et al. 2015) against the exposure bias of
                free-running inference. 0 (default): pure teacher forcing, every step's
                pre-net computed at once.

        Returns:
            dict with ``mel_before`` and ``mel_after`` (B, M, N') (N' = N rounded up to a
            multiple of r; zero past mel_lengths), ``stop_logits`` (B, N') and ``alignments``
            (B, N'/r, L).
        """
        self._check(tokens, token_lengths)
        if mel.ndim != 3 or mel.shape[:2] != (tokens.shape[0], self.n_mels):
            raise ParameterError(f"mel with shape {tuple(mel.shape)} must be (B, M={self.n_mels}, "
                                 f"N) with B={tokens.shape[0]}")  # fmt: skip
        if (
            mel_lengths.shape != tokens.shape[:1]
            or (mel_lengths < 1).any()
            or (mel_lengths > mel.shape[-1]).any()
        ):
            raise ParameterError(f"mel_lengths={mel_lengths.tolist()} must be (B,) with values "
                                 f"in [1, N={mel.shape[-1]}]")  # fmt: skip
        r = self.reduction_factor
        num_steps = math.ceil(mel.shape[-1] / r)
        mel = F.pad(mel, (0, num_steps * r - mel.shape[-1]))  # (B, M, N')
        memory = self.encode(tokens, token_lengths)
        projected = self.attention.project_memory(memory)
        mask = lengths_to_mask(token_lengths, max_length=tokens.shape[1])
        # decoder inputs: a zero "go" frame, then the last frame of each group of r
        previous = mel[:, :, r - 1 :: r].transpose(1, 2)[:, :-1]  # (B, steps-1, M)
        previous = torch.cat([mel.new_zeros(mel.shape[0], 1, self.n_mels), previous], 1)
        if not 0.0 <= float(self_feeding) <= 1.0:
            raise ParameterError(f"self_feeding={self_feeding!r} must be in [0, 1]")
        masks = self._eval_masks(num_steps, mel.device)
        feeding = float(self_feeding) > 0
        if feeding:
            coins = torch.rand(mel.shape[0], num_steps, 1, device=mel.device) < self_feeding
        else:
            prenet_frames = self._prenet(previous, masks)  # (B, steps, P)
        state = self._initial_state(memory)
        frames, stops, alignments = [], [], []
        for step in range(num_steps):
            if feeding:
                step_input = previous[:, step]
                if step > 0:
                    own = frames[-1].detach().view(-1, r, self.n_mels)[:, -1]
                    step_input = torch.where(coins[:, step], own, step_input)
                step_prenet = self._prenet(step_input, None if masks is None else masks[step])
            else:
                step_prenet = prenet_frames[:, step]
            frame, stop, weights = self._step(step_prenet, state, memory, projected, mask)
            frames.append(frame)
            stops.append(stop)
            alignments.append(weights)
        batch = tokens.shape[0]
        mel_before = torch.stack(frames, 1).view(batch, num_steps, r, self.n_mels)
        mel_before = mel_before.reshape(batch, num_steps * r, self.n_mels).transpose(1, 2)
        frame_mask = (
            lengths_to_mask(mel_lengths, max_length=num_steps * r).unsqueeze(1).to(mel.dtype)
        )
        mel_before = mel_before * frame_mask
        return {
            "mel_before": mel_before,
            "mel_after": self._postnet(mel_before, mel_lengths),
            "stop_logits": torch.stack(stops, 1).reshape(batch, num_steps * r),
            "alignments": torch.stack(alignments, 1),
        }

    def loss(
        self, outputs: dict[str, Tensor], mel: Tensor, mel_lengths: Tensor, *,
        token_lengths: Tensor | None = None, mel_loss: str = "l2",
        guided_attention_weight: float = 0.0, guided_sigma: float = 0.2,
    ) -> dict[str, Tensor]:  # fmt: skip
        """Masked mel loss (before + after post-net), stop BCE, optional guided attention.

        Args:
            outputs: the dict returned by :meth:`forward`.
            mel: the targets (B, M, N).
            mel_lengths: (B,).
            token_lengths: (B,); needed when ``guided_attention_weight > 0``.
            mel_loss: ``"l2"`` (mean squared error) or ``"l1"``, averaged over valid cells.
            guided_attention_weight: weight of the guided-attention loss (0 = off).
            guided_sigma: width g of the guided-attention band.

        Returns:
            dict with ``loss`` (the weighted total), ``mel``, ``stop``, ``guided``.
        """
        if mel_loss not in ("l1", "l2"):
            raise ParameterError(f"mel_loss={mel_loss!r} must be 'l1' or 'l2'")
        if guided_attention_weight < 0 or guided_sigma <= 0:
            raise ParameterError(f"guided_attention_weight={guided_attention_weight!r} must be "
                                 f">= 0 and guided_sigma={guided_sigma!r} > 0")  # fmt: skip
        if guided_attention_weight > 0 and token_lengths is None:
            raise ParameterError("token_lengths=None: needed for guided_attention_weight > 0")
        total = outputs["mel_before"].shape[-1]
        target = F.pad(mel, (0, total - mel.shape[-1]))
        mask = lengths_to_mask(mel_lengths, max_length=total).unsqueeze(1).expand_as(target)
        distance = F.mse_loss if mel_loss == "l2" else F.l1_loss
        mel_term = sum(
            distance(outputs[key].masked_select(mask), target.masked_select(mask))
            for key in ("mel_before", "mel_after")
        )
        frames = torch.arange(total, device=mel.device).unsqueeze(0)
        stop_target = (frames >= (mel_lengths - 1).unsqueeze(1)).to(mel.dtype)
        stop_term = F.binary_cross_entropy_with_logits(outputs["stop_logits"], stop_target)
        guided = mel.new_zeros(())
        if guided_attention_weight > 0:
            alignments = outputs["alignments"]
            steps = torch.div(mel_lengths + self.reduction_factor - 1, self.reduction_factor,
                              rounding_mode="floor")  # fmt: skip
            weights = guided_attention_weights(
                token_lengths, steps, num_steps=alignments.shape[1],
                num_tokens=alignments.shape[2], sigma=guided_sigma,
            ).to(alignments.dtype)  # fmt: skip
            valid = (weights > 0).sum().clamp(min=1)
            guided = (alignments * weights).sum() / valid
        loss = mel_term + stop_term + guided_attention_weight * guided
        return {"loss": loss, "mel": mel_term, "stop": stop_term, "guided": guided}

    @torch.no_grad()
    def infer(
        self, tokens: Tensor, token_lengths: Tensor, *, max_decoder_steps: int = 1000,
        stop_threshold: float = 0.5, attention_window: tuple[int, int] | None = None,
    ) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
        """Free-running batched decoding until every item's stop probability passes threshold.

        Args:
            tokens: LongTensor (B, L); token_lengths: (B,).
            max_decoder_steps: the most decoder steps (each emits r frames).
            stop_threshold: sigmoid(stop_logit) above this ends an item.
            attention_window: ``(backward, forward)``: at each step attention may only reach
                tokens ``p - backward .. p + forward`` around the previous step's most attended
                token ``p`` (a monotonic constraint against skipping, repeating and smearing
                in free-running decoding; ESPnet's ``use_att_constraint``, default (1, 3)
                there). None: unconstrained (as in training).

        Returns:
            mel (B, M, N) (zero past mel_lengths), mel_lengths (B,), alignments (B, N/r, L).
        """
        self._check(tokens, token_lengths)
        if (
            isinstance(max_decoder_steps, bool)
            or not isinstance(max_decoder_steps, int)
            or (max_decoder_steps <= 0)
        ):
            raise ParameterError(f"max_decoder_steps={max_decoder_steps!r} must be a positive "
                                 "integer")  # fmt: skip
        if not 0.0 < stop_threshold < 1.0:
            raise ParameterError(f"stop_threshold={stop_threshold!r} must be in (0, 1)")
        if attention_window is not None and (
            len(attention_window) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                   for v in attention_window)
        ):  # fmt: skip
            raise ParameterError(f"attention_window={attention_window!r} must be None or "
                                 "(backward, forward) non-negative integers")  # fmt: skip
        r, batch = self.reduction_factor, tokens.shape[0]
        memory = self.encode(tokens, token_lengths)
        projected = self.attention.project_memory(memory)
        mask = lengths_to_mask(token_lengths, max_length=tokens.shape[1])
        state = self._initial_state(memory)
        previous = memory.new_zeros(batch, self.n_mels)
        lengths = torch.full((batch,), max_decoder_steps * r, dtype=torch.long,
                             device=tokens.device)  # fmt: skip
        done = torch.zeros(batch, dtype=torch.bool, device=tokens.device)
        frames, alignments = [], []
        masks = self._eval_masks(max_decoder_steps, tokens.device)
        positions = torch.arange(tokens.shape[1], device=tokens.device).unsqueeze(0)
        for step in range(max_decoder_steps):
            step_masks = None if masks is None else masks[step]
            step_mask = mask
            if attention_window is not None and step > 0:
                position = state["weights"].argmax(-1, keepdim=True)  # (B, 1)
                offset = positions - position  # (B, L)
                backward, forward = attention_window
                step_mask = mask & (offset >= -backward) & (offset <= forward)
            frame, stop, weights = self._step(self._prenet(previous, step_masks), state, memory,
                                              projected, step_mask)  # fmt: skip
            frame = frame.view(batch, r, self.n_mels)
            frames.append(frame)
            alignments.append(weights)
            previous = frame[:, -1]
            stopped = torch.sigmoid(stop) > stop_threshold  # (B, r)
            first = stopped.float().argmax(1)  # first stopping frame of the step
            newly = ~done & stopped.any(1)
            lengths = torch.where(newly, step * r + first + 1, lengths)
            done |= newly
            if done.all():
                break
        mel = torch.cat(frames, 1).transpose(1, 2)  # (B, M, N)
        mel = mel * lengths_to_mask(lengths, max_length=mel.shape[-1]).unsqueeze(1).to(mel.dtype)
        return self._postnet(mel, lengths), lengths, torch.stack(alignments, 1)

    def example_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of :meth:`forward` for smoke tests (docs/architecture.md)."""
        generator = torch.Generator().manual_seed(0)
        device = self.embedding.weight.device
        num_symbols = self.embedding.num_embeddings
        tokens = torch.randint(1, num_symbols, (batch_size, 7), generator=generator)
        token_lengths = torch.full((batch_size,), 7, dtype=torch.long)
        token_lengths[1:] = 5
        tokens = tokens * lengths_to_mask(token_lengths, max_length=7)
        mel = torch.randn(batch_size, self.n_mels, 10, generator=generator)
        mel_lengths = torch.full((batch_size,), 10, dtype=torch.long)
        mel_lengths[1:] = 8
        return {"tokens": tokens.to(device), "token_lengths": token_lengths.to(device),
                "mel": mel.to(device), "mel_lengths": mel_lengths.to(device)}  # fmt: skip

    def example_generate_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of :meth:`infer` for smoke tests (docs/architecture.md)."""
        inputs = self.example_inputs(batch_size)
        return {"tokens": inputs["tokens"], "token_lengths": inputs["token_lengths"],
                "max_decoder_steps": 4}  # fmt: skip


_AUDIO_TINY = AudioConfig(sample_rate=16000, n_fft=512, hop_length=128, win_length=512,
                          n_mels=20, f_max=None)  # fmt: skip
register_model(
    "tacotron2_tiny", Tacotron2, audio_config=_AUDIO_TINY, embedding_dim=32, attention_dim=16,
    location_channels=4, location_kernel_size=7, prenet_dim=16, decoder_dim=32,
    postnet_channels=16, reduction_factor=2,
)  # fmt: skip
register_model(
    "tacotron2_small", Tacotron2, audio_config=AudioConfig(), embedding_dim=256,
    attention_dim=128, location_channels=32, prenet_dim=128, decoder_dim=512,
    postnet_channels=256, reduction_factor=2,
)  # fmt: skip
