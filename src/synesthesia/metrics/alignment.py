"""How diagonal an attention alignment is (text-to-speech attention health).

References:
    Tachibana et al. 2017 (the diagonal prior of guided attention); the "diagonal attention
    ratio" used to monitor Tacotron-style training (e.g. ESPnet's attention plots).
"""

from __future__ import annotations

import torch
from torch import Tensor

from synesthesia.errors import ParameterError

__all__ = ["diagonality"]


def diagonality(
    alignment: Tensor, token_lengths: Tensor, mel_lengths: Tensor, *,
    reduction_factor: int = 1, band_width: float = 0.2,
) -> Tensor:  # fmt: skip
    """Mean attention mass inside a band around the diagonal, per item.

    With ``N_b = ceil(mel_lengths / reduction_factor)`` valid decoder steps and ``L_b`` valid
    tokens, step ``n`` and token ``l`` are in the band when
    ``|(l + 0.5) / L_b - (n + 0.5) / N_b| <= band_width``. The score is the mean over the
    ``N_b`` valid steps of the attention weight the step puts on in-band tokens: 1 for an
    alignment that stays on the diagonal, about ``2 * band_width`` for uniform attention, near
    0 for an anti-diagonal one.

    Args:
        alignment: attention weights (B, N_steps, L) (rows over valid tokens sum to 1).
        token_lengths: LongTensor (B,), valid tokens.
        mel_lengths: LongTensor (B,), valid mel frames.
        reduction_factor: frames per decoder step (r).
        band_width: half-width of the band as a fraction of the normalised time axis.

    Returns:
        Scores (B,) in [0, 1], in the alignment's dtype.
    """
    if alignment.ndim != 3:
        raise ParameterError(f"alignment with shape {tuple(alignment.shape)} must be (B, N, L)")
    batch, num_steps, num_tokens = alignment.shape
    if token_lengths.shape != (batch,) or mel_lengths.shape != (batch,):
        raise ParameterError(
            f"token_lengths {tuple(token_lengths.shape)} and mel_lengths "
            f"{tuple(mel_lengths.shape)} must both be (B,) = ({batch},)"
        )
    if (
        isinstance(reduction_factor, bool)
        or not isinstance(reduction_factor, int)
        or (reduction_factor <= 0)
    ):
        raise ParameterError(f"reduction_factor={reduction_factor!r} must be a positive integer")
    if not 0 < band_width <= 1:
        raise ParameterError(f"band_width={band_width!r} must be in (0, 1]")
    steps = torch.div(mel_lengths + reduction_factor - 1, reduction_factor, rounding_mode="floor")
    if (steps < 1).any() or (steps > num_steps).any():
        raise ParameterError(f"mel_lengths={mel_lengths.tolist()} must give 1..{num_steps} "
                             f"decoder steps with reduction_factor={reduction_factor}")  # fmt: skip
    if (token_lengths < 1).any() or (token_lengths > num_tokens).any():
        raise ParameterError(f"token_lengths={token_lengths.tolist()} must be in "
                             f"[1, {num_tokens}]")  # fmt: skip
    dtype = alignment.dtype
    n = (torch.arange(num_steps, device=alignment.device, dtype=dtype) + 0.5).view(1, -1, 1)
    ell = (torch.arange(num_tokens, device=alignment.device, dtype=dtype) + 0.5).view(1, 1, -1)
    rows = n / steps.to(dtype).view(-1, 1, 1)
    cols = ell / token_lengths.to(dtype).view(-1, 1, 1)
    valid_tokens = ell < token_lengths.to(dtype).view(-1, 1, 1)
    band = ((cols - rows).abs() <= band_width) & valid_tokens  # (B, N, L)
    mass = (alignment * band).sum(-1)  # (B, N)
    valid_steps = n.squeeze(-1) < steps.to(dtype).view(-1, 1)  # (B, N)
    return (mass * valid_steps).sum(-1) / steps.to(dtype)
