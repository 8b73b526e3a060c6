"""The WaveNet network: layers, teacher-forced forward, loss, and the generation entry points.

``forward`` is the teacher-forced pass over whole waveforms (training); ``generate`` draws a
waveform sample by sample. Generation has two backends that compute the same function:
"torch" (the reference: the streaming ``step`` of every block, one batched torch call per op
and step) and "numba" (one compiled kernel runs the whole loop over float NumPy copies of the
weights, see :mod:`synesthesia.models.wavenet.numba_backend`). Both consume the same pre-drawn
uniforms, so they return the same samples; "auto" picks numba on CPU when it imports.
``weight_dtype=torch.float16`` rounds the per-sample weight matrices to half precision (the
numba kernel then streams half the bytes per sample: 1.3–1.6× faster at batch 1; products and
sums stay float32) — on either backend, so they still compute the same function.

Output heads: "mulaw" (softmax over ``quantization_channels`` mu-law classes; the input is
the class, embedded), "mol" (discretized mixture of ``num_mixtures`` logistics) and
"gaussian" (one Gaussian); the latter two take the waveform value as input.

References:
    van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016; Shen et al.,
    "Natural TTS Synthesis by Conditioning WaveNet on Mel Spectrogram Predictions", 2018;
    Salimans et al., "PixelCNN++", 2017; r9y9/wavenet_vocoder (layout of the residual stack,
    skip scaling by sqrt(1 / num_layers), output head ReLU-1×1-ReLU-1×1, MoL conventions).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.functional import distributions as D
from synesthesia.functional.attention import lengths_to_mask
from synesthesia.functional.mu_law import mu_law_decode, mu_law_encode
from synesthesia.models.base import PretrainedModel
from synesthesia.models.mel_input import check_mel
from synesthesia.models.wavenet import generation
from synesthesia.models.wavenet.generation import BACKENDS
from synesthesia.nn.wavenet_blocks import ConditioningUpsampler, GatedResidualBlock

__all__ = ["WaveNet", "check_mel", "HEADS", "BACKENDS"]

logger = logging.getLogger(__name__)

HEADS = ("mulaw", "mol", "gaussian")


class WaveNet(PretrainedModel):
    """Mel-conditioned WaveNet (van den Oord et al. 2016) with three output heads.

    Layer ``i`` has dilation ``2 ** (i % (num_layers // num_stacks))``. The input (the previous
    sample) enters through a 1×1 layer (an embedding of the mu-law class for "mulaw"); the
    mel (B, M, N) goes through :class:`ConditioningUpsampler` to sample rate and a per-layer
    1×1 projection into every gate. Skips are summed, scaled by ``sqrt(1 / num_layers)`` and
    mapped by ReLU → 1×1 → ReLU → 1×1 to the head parameters (B, K, T). The last layer has
    no residual 1×1 (its residual output would feed nothing).

    Args:
        audio_config: the mel analysis; its ``hop_length`` sets the upsampling.
        num_layers: residual layers.
        num_stacks: dilation cycles (``num_layers`` must be a multiple).
        kernel_size: taps of each dilated conv (2 or more).
        residual_channels: width ``R`` of the residual stream.
        gate_channels: output channels of each dilated conv (half survive the gate).
        skip_channels: width ``S`` of the skip stream and output head.
        cond_channels: mel bins; must equal ``audio_config.n_mels``.
        global_cond_dim: width of an optional global conditioning vector (e.g. a speaker
            embedding (B, G)); 0 for none.
        output: "mulaw", "mol" or "gaussian".
        num_mixtures: logistic components for "mol".
        quantization_channels: mu-law classes ("mulaw", default 256) or the levels the MoL
            likelihood is discretized to ("mol", default 65536).
        log_scale_min: lower clamp of log-scales ("mol", "gaussian").
        upsample_kernel_size: frames seen by each frame-rate conv of the upsampler.
        upsample_layers: residual blocks of the upsampler's frame-rate network (0: one
            linear conv, the original design; see :class:`ConditioningUpsampler`).
        upsample_hidden_channels: hidden width of those blocks (default ``cond_channels``).
        interpolation: "linear" or "nearest" frame → sample interpolation.
        dropout: dropout on each layer's input during training.
    """

    architecture = "wavenet"

    def __init__(
        self,
        *,
        audio_config: AudioConfig | None = None,
        num_layers: int = 16,
        num_stacks: int = 2,
        kernel_size: int = 3,
        residual_channels: int = 64,
        gate_channels: int = 128,
        skip_channels: int = 64,
        cond_channels: int = 80,
        global_cond_dim: int = 0,
        output: str = "mulaw",
        num_mixtures: int = 10,
        quantization_channels: int | None = None,
        log_scale_min: float = -7.0,
        upsample_kernel_size: int = 3,
        upsample_layers: int = 0,
        upsample_hidden_channels: int | None = None,
        interpolation: str = "linear",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        audio_config = AudioConfig() if audio_config is None else audio_config
        if not isinstance(audio_config, AudioConfig):
            raise ParameterError(f"audio_config={audio_config!r} must be an AudioConfig")
        for name, value in (("num_layers", num_layers), ("num_stacks", num_stacks)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ParameterError(f"{name}={value!r} must be a positive integer")
        if num_layers % num_stacks:
            raise ParameterError(
                f"num_layers={num_layers} must be a multiple of num_stacks={num_stacks}"
            )
        if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 2:
            raise ParameterError(f"kernel_size={kernel_size!r} must be an integer >= 2")
        if cond_channels != audio_config.n_mels:
            raise ParameterError(
                f"cond_channels={cond_channels} must equal audio_config.n_mels="
                f"{audio_config.n_mels}"
            )
        if output not in HEADS:
            raise ParameterError(f"output={output!r} must be one of {HEADS}")
        if output == "mol" and (not isinstance(num_mixtures, int) or num_mixtures < 1):
            raise ParameterError(f"num_mixtures={num_mixtures!r} must be a positive integer")
        if quantization_channels is None:
            quantization_channels = {"mulaw": 256, "mol": 65536, "gaussian": 65536}[output]
        if not isinstance(quantization_channels, int) or quantization_channels < 2:
            raise ParameterError(
                f"quantization_channels={quantization_channels!r} must be an integer >= 2"
            )
        self.audio_config = audio_config
        self.hop_length = audio_config.hop_length
        self.num_layers = num_layers
        self.num_stacks = num_stacks
        self.kernel_size = kernel_size
        self.residual_channels = residual_channels
        self.gate_channels = gate_channels
        self.skip_channels = skip_channels
        self.cond_channels = cond_channels
        self.global_cond_dim = global_cond_dim
        self.output = output
        self.num_mixtures = num_mixtures
        self.quantization_channels = quantization_channels
        self.log_scale_min = float(log_scale_min)
        self.upsample_kernel_size = upsample_kernel_size
        self.upsample_layers = upsample_layers
        self.upsample_hidden_channels = (
            cond_channels if upsample_hidden_channels is None else upsample_hidden_channels
        )
        self.interpolation = interpolation
        self.dropout = dropout

        per_stack = num_layers // num_stacks
        self.dilations = [2 ** (i % per_stack) for i in range(num_layers)]
        if output == "mulaw":
            self.input_layer: nn.Module = nn.Embedding(quantization_channels, residual_channels)
        else:
            self.input_layer = nn.Conv1d(1, residual_channels, 1)
        self.upsampler = ConditioningUpsampler(
            cond_channels,
            hop_length=self.hop_length,
            kernel_size=upsample_kernel_size,
            interpolation=interpolation,
            num_layers=upsample_layers,
            hidden_channels=self.upsample_hidden_channels,
        )
        self.blocks = nn.ModuleList(
            GatedResidualBlock(
                residual_channels=residual_channels,
                gate_channels=gate_channels,
                skip_channels=skip_channels,
                kernel_size=kernel_size,
                dilation=d,
                cond_channels=cond_channels,
                global_cond_dim=global_cond_dim,
                dropout=dropout,
                residual_output=i < num_layers - 1,
            )
            for i, d in enumerate(self.dilations)
        )
        self.output_hidden = nn.Conv1d(skip_channels, skip_channels, 1)
        self.output_proj = nn.Conv1d(skip_channels, self.output_channels, 1)
        self.skip_scale = math.sqrt(1.0 / num_layers)

    # -- description -----------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        return {
            "audio_config": self.audio_config,
            "num_layers": self.num_layers,
            "num_stacks": self.num_stacks,
            "kernel_size": self.kernel_size,
            "residual_channels": self.residual_channels,
            "gate_channels": self.gate_channels,
            "skip_channels": self.skip_channels,
            "cond_channels": self.cond_channels,
            "global_cond_dim": self.global_cond_dim,
            "output": self.output,
            "num_mixtures": self.num_mixtures,
            "quantization_channels": self.quantization_channels,
            "log_scale_min": self.log_scale_min,
            "upsample_kernel_size": self.upsample_kernel_size,
            "upsample_layers": self.upsample_layers,
            "upsample_hidden_channels": self.upsample_hidden_channels,
            "interpolation": self.interpolation,
            "dropout": self.dropout,
        }

    @property
    def output_channels(self) -> int:
        """Head parameters per sample ``K``: Q (mulaw), 3 * num_mixtures (mol), 2 (gaussian)."""
        if self.output == "mulaw":
            return self.quantization_channels
        return 3 * self.num_mixtures if self.output == "mol" else 2

    @property
    def receptive_field(self) -> int:
        """Past samples a prediction depends on: ``(kernel_size - 1) * sum(dilations) + 1``."""
        return (self.kernel_size - 1) * sum(self.dilations) + 1

    def macs_per_sample(self) -> int:
        """Multiply-accumulates per generated sample on the fast path (conditioning excluded)."""
        half = self.gate_channels // 2
        per_layer = self.kernel_size * self.residual_channels * self.gate_channels
        per_layer += half * (self.skip_channels + self.residual_channels)
        total = self.num_layers * per_layer  # (the kernel runs the last layer's zero residual)
        total += self.skip_channels * (self.skip_channels + self.output_channels)
        return total

    def example_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of :meth:`forward` for smoke tests (docs/architecture.md)."""
        generator = torch.Generator().manual_seed(0)
        frames = 3
        mel = torch.randn(batch_size, self.cond_channels, frames, generator=generator) - 4.0
        waveform = torch.rand(batch_size, frames * self.hop_length, generator=generator) - 0.5
        inputs: dict[str, Any] = {"waveform_input": waveform, "mel": mel}
        if self.global_cond_dim:
            inputs["global_cond"] = torch.randn(batch_size, self.global_cond_dim)
        device = self.output_hidden.weight.device
        return {k: v.to(device) for k, v in inputs.items()}

    def example_generate_inputs(self, batch_size: int = 2) -> dict[str, Any]:
        """Keyword arguments of :meth:`generate` for smoke tests (docs/architecture.md)."""
        inputs = self.example_inputs(batch_size)
        inputs.pop("waveform_input")
        lengths = torch.arange(batch_size, 0, -1).clamp(min=1, max=inputs["mel"].shape[-1])
        return {**inputs, "mel_lengths": lengths.to(inputs["mel"].device), "progress": False}

    # -- teacher-forced pass ---------------------------------------------------------------
    @property
    def start_value(self) -> float:
        """The input before the first sample: silence (class Q // 2 for mulaw, else 0.0)."""
        return float(self.quantization_channels // 2) if self.output == "mulaw" else 0.0

    def _as_targets(self, waveform: torch.Tensor) -> torch.Tensor:
        """(B, T) classes (mulaw; a float waveform is mu-law encoded) or float waveform."""
        if not isinstance(waveform, torch.Tensor) or waveform.dim() != 2:
            raise ParameterError(
                f"waveform with shape {tuple(getattr(waveform, 'shape', ()))} must be (B, T)"
            )
        if self.output == "mulaw":
            if waveform.is_floating_point():
                return mu_law_encode(waveform, quantization_channels=self.quantization_channels)
            if bool((waveform < 0).any()) or bool((waveform >= self.quantization_channels).any()):
                raise ParameterError(
                    f"waveform classes must lie in [0, {self.quantization_channels - 1}]"
                )
            return waveform.long()
        if not waveform.is_floating_point():
            raise ParameterError(f"waveform dtype {waveform.dtype} must be float for {self.output}")
        return waveform

    def _embed(self, previous: torch.Tensor) -> torch.Tensor:
        """(B, T) previous samples → (B, R, T)."""
        if self.output == "mulaw":
            return self.input_layer(previous).transpose(1, 2)
        weight = self.input_layer.weight
        return self.input_layer(previous.to(weight.dtype).unsqueeze(1))

    def _head(self, skips: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(self.output_hidden(F.relu(skips * self.skip_scale)))
        return self.output_proj(hidden)

    def forward(
        self,
        waveform_input: torch.Tensor,
        mel: torch.Tensor,
        *,
        mel_lengths: torch.Tensor | None = None,
        global_cond: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Teacher-forced head parameters: output ``t`` predicts sample ``t`` from ``< t``.

        Args:
            waveform_input: (B, T) waveform in [-1, 1] (or mu-law classes for "mulaw"),
                ``T <= N * hop_length``. It is shifted right by one internally.
            mel: (B, M, N) log-mel frames (``center=True`` analysis of the waveform).
            mel_lengths: (B,) valid frames per row.
            global_cond: (B, G) when ``global_cond_dim > 0``.

        Returns:
            (B, K, T) head parameters (logits, MoL or Gaussian parameters).
        """
        targets = self._as_targets(waveform_input)
        batch, num_samples = targets.shape
        if mel.dim() != 3 or mel.shape[0] != batch or mel.shape[1] != self.cond_channels:
            raise ParameterError(
                f"mel with shape {tuple(mel.shape)} must be (B={batch}, M={self.cond_channels}, N)"
            )
        if num_samples > mel.shape[-1] * self.hop_length:
            raise ParameterError(
                f"waveform length T={num_samples} must be <= N * hop_length = "
                f"{mel.shape[-1] * self.hop_length}"
            )
        self._check_global(global_cond, batch)
        start = torch.full((batch, 1), self.start_value, device=targets.device)
        previous = torch.cat([start.to(targets.dtype), targets[:, :-1]], dim=1)
        x = self._embed(previous)
        cond = self.upsampler(mel, mel_lengths=mel_lengths, num_samples=num_samples)
        skips = 0
        for block in self.blocks:
            x, skip = block(x, cond, global_cond)
            skips = skips + skip
        return self._head(skips)

    def loss(
        self,
        output: torch.Tensor,
        waveform: torch.Tensor,
        *,
        waveform_lengths: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Mean negative log-likelihood per valid sample (nats).

        Cross-entropy for "mulaw", discretized MoL NLL for "mol", Gaussian NLL for "gaussian".

        Args:
            output: (B, K, T) from :meth:`forward`.
            waveform: (B, T) the target waveform (or classes for "mulaw").
            waveform_lengths: (B,) valid samples per row (default: all).

        Returns:
            Scalar loss averaged over valid samples.
        """
        targets = self._as_targets(waveform)
        if self.output == "mulaw":
            nll = D.categorical_nll(output, targets)
        elif self.output == "mol":
            nll = D.discretized_mix_logistic_nll(
                output,
                targets.to(output.dtype),
                num_classes=self.quantization_channels,
                log_scale_min=self.log_scale_min,
            )
        else:
            nll = D.gaussian_nll(output, targets.to(output.dtype), log_scale_min=self.log_scale_min)
        if waveform_lengths is None:
            return nll.mean()
        mask = lengths_to_mask(waveform_lengths, max_length=nll.shape[1], device=nll.device)
        mask = mask.to(nll.dtype)
        return (nll * mask).sum() / mask.sum().clamp(min=1)

    def _check_global(self, global_cond: torch.Tensor | None, batch: int) -> None:
        if self.global_cond_dim:
            if global_cond is None or tuple(global_cond.shape) != (batch, self.global_cond_dim):
                raise ParameterError(
                    f"global_cond with shape {tuple(getattr(global_cond, 'shape', ()))} must be "
                    f"(B={batch}, G={self.global_cond_dim})"
                )
        elif global_cond is not None:
            raise ParameterError("global_cond was given but global_cond_dim=0")

    # -- generation -------------------------------------------------------------------------
    def check_mel(
        self,
        mel: torch.Tensor,
        *,
        mel_lengths: torch.Tensor | None = None,
        audio_config: AudioConfig | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:func:`check_mel` against this model's AudioConfig."""
        return check_mel(
            mel, self.audio_config, mel_lengths=mel_lengths, mel_audio_config=audio_config
        )

    def frame_conditioning(
        self,
        mel: torch.Tensor,
        *,
        mel_lengths: torch.Tensor,
        global_cond: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Per-layer gate conditioning at frame rate: (B, N, num_layers, gate_channels).

        ``cond_proj(frame_features) + global_proj(g)``; interpolating it to sample rate gives
        exactly the conditioning terms of the teacher-forced pass (the upsampling is linear).
        """
        features = self.upsampler.frame_features(mel, mel_lengths=mel_lengths)  # (B, M, N)
        weights = torch.stack([b.cond_proj.weight[:, :, 0] for b in self.blocks])  # (L, G, M)
        cond = torch.einsum("lgm,bmn->bnlg", weights, features)
        if self.global_cond_dim:
            glob = torch.stack([b.global_proj(global_cond) for b in self.blocks], dim=1)
            cond = cond + glob.unsqueeze(1)
        return cond.contiguous()

    def per_sample_matrices(self) -> list[torch.Tensor]:
        """The weight matrices generation multiplies at every sample (what ``weight_dtype``
        rounds): each block's dilated conv, residual and skip 1×1, and the head's two 1×1.
        Biases, the input layer and the frame-rate conditioning stay in the model's dtype."""
        mats = []
        for block in self.blocks:
            mats.append(block.conv.weight)
            if block.res_proj is not None:
                mats.append(block.res_proj.weight)
            mats.append(block.skip_proj.weight)
        return [*mats, self.output_hidden.weight, self.output_proj.weight]

    @torch.no_grad()
    def generate(
        self,
        mel: torch.Tensor,
        *,
        mel_lengths: torch.Tensor | None = None,
        global_cond: torch.Tensor | None = None,
        audio_config: AudioConfig | None = None,
        temperature: float = 1.0,
        generator: torch.Generator | None = None,
        uniforms: torch.Tensor | None = None,
        progress: bool = True,
        backend: str = "auto",
        weight_dtype: torch.dtype | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw waveforms sample by sample for a batch of mels of different lengths.

        Args:
            mel: (B, M, N) log-mel frames (checked by :func:`check_mel`).
            mel_lengths: (B,) valid frames per row; row ``b`` yields
                ``mel_lengths[b] * hop_length`` samples.
            global_cond: (B, G) when ``global_cond_dim > 0``.
            audio_config: the AudioConfig the mel was made with; refused if it differs.
            temperature: > 0; scales the softmax logits' inverse (mulaw) or the scales.
            generator: seeds the uniforms (ignored when ``uniforms`` is given).
            uniforms: (B, >= T, 2) pre-drawn values in (0, 1) (see
                :func:`synesthesia.functional.distributions.draw_uniforms`).
            progress: show a progress bar (samples per second and time left; quiet when not
                on a terminal).
            backend: "auto" (numba on CPU when available), "torch" or "numba".
            weight_dtype: None, or ``torch.float16`` to round the per-sample weight matrices
                (:meth:`per_sample_matrices`) to half precision, float32 model only: faster
                with numba (half the weight bytes per sample); exact for a model saved with
                ``save_pretrained(..., dtype=torch.float16)``.

        Returns:
            ``(waveform (B, T), waveform_lengths (B,))`` with ``T = N * hop_length``; samples
            past a row's length are zero.
        """
        mel, mel_lengths = self.check_mel(mel, mel_lengths=mel_lengths, audio_config=audio_config)
        temperature = D._check_temperature(temperature)
        weight_dtype = generation.check_weight_dtype(self, weight_dtype)
        batch = mel.shape[0]
        self._check_global(global_cond, batch)
        sample_lengths = mel_lengths * self.hop_length
        num_samples = mel.shape[-1] * self.hop_length
        if uniforms is None:
            uniforms = D.draw_uniforms(batch, num_samples, 2, generator=generator)
        elif (
            uniforms.dim() != 3
            or uniforms.shape[0] != batch
            or uniforms.shape[1] < num_samples
            or uniforms.shape[2] != 2
        ):
            raise ParameterError(
                f"uniforms with shape {tuple(uniforms.shape)} must be (B={batch}, "
                f">= T={num_samples}, 2)"
            )
        weight = self.output_hidden.weight  # run on the model's device and dtype
        samples, _ = generation.stream(
            self,
            mel.to(device=weight.device, dtype=weight.dtype),
            mel_lengths.to(weight.device),
            global_cond,
            uniforms=uniforms[:, :num_samples].to(device=weight.device, dtype=torch.float64),
            temperature=temperature,
            backend=generation.resolve_backend(self, backend),
            progress=progress,
            weight_dtype=weight_dtype,
        )
        if self.output == "mulaw":
            waveform = mu_law_decode(
                samples.long(), quantization_channels=self.quantization_channels, dtype=mel.dtype
            )
        else:
            waveform = samples.to(mel.dtype)
        sample_lengths = sample_lengths.to(waveform.device)
        valid = lengths_to_mask(sample_lengths, max_length=num_samples)  # (B, T)
        return waveform * valid, sample_lengths

    @torch.no_grad()
    def incremental_forward(
        self,
        waveform_input: torch.Tensor,
        mel: torch.Tensor,
        *,
        mel_lengths: torch.Tensor | None = None,
        global_cond: torch.Tensor | None = None,
        backend: str = "torch",
        weight_dtype: torch.dtype | None = None,
    ) -> torch.Tensor:
        """:meth:`forward` computed by the sample-by-sample generation path.

        The generation loop runs with its input forced to ``waveform_input`` (teacher
        forcing) and records the head parameters at every step. It equals :meth:`forward`
        (up to rounding) — the check that generation computes what training optimised.
        ``backend`` and ``weight_dtype`` as in :meth:`generate`.

        Returns:
            (B, K, T) head parameters (entries past a row's length are unspecified).
        """
        mel, mel_lengths = self.check_mel(mel, mel_lengths=mel_lengths)
        targets = self._as_targets(waveform_input)
        batch, num_samples = targets.shape
        if num_samples > mel.shape[-1] * self.hop_length:
            raise ParameterError(
                f"waveform length T={num_samples} must be <= N * hop_length = "
                f"{mel.shape[-1] * self.hop_length}"
            )
        self._check_global(global_cond, batch)
        weight_dtype = generation.check_weight_dtype(self, weight_dtype)
        _, outputs = generation.stream(
            self,
            mel,
            mel_lengths,
            global_cond,
            uniforms=torch.full(
                (batch, num_samples, 2), 0.5, dtype=torch.float64, device=mel.device
            ),
            temperature=1.0,
            backend=generation.resolve_backend(self, backend),
            progress=False,
            forced=targets.to(torch.float64),
            record=True,
            weight_dtype=weight_dtype,
        )
        return outputs

    def sample_output(
        self, params: torch.Tensor, uniforms: torch.Tensor, *, temperature: float
    ) -> torch.Tensor:
        """Draw one sample per row from the head parameters (B, K) with uniforms (B, 2).

        Returns mu-law classes for "mulaw", waveform values otherwise (B,); the samplers of
        :mod:`synesthesia.functional.distributions`, which the numba kernel reproduces."""
        if self.output == "mulaw":
            return D.sample_categorical(params, uniforms, temperature=temperature)
        if self.output == "mol":
            return D.sample_discretized_mix_logistic(
                params, uniforms, temperature=temperature, log_scale_min=self.log_scale_min
            )
        return D.sample_gaussian(
            params, uniforms, temperature=temperature, log_scale_min=self.log_scale_min
        )
