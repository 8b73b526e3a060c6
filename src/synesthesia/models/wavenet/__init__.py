"""WaveNet vocoder: a mel-conditioned autoregressive waveform model with fast generation.

The package, read top to bottom:

- :mod:`.model` — the network (:class:`WaveNet`), teacher-forced ``forward`` and ``loss``,
  and the ``generate`` / ``incremental_forward`` entry points.
- :mod:`.presets` — the registered ``wavenet_*`` presets.
- :mod:`.generation` — backend choice, half-precision weight rounding and the sample loop
  with its progress bar.
- :mod:`.torch_backend` — the reference loop in plain torch.
- :mod:`.numba_backend` and :mod:`.numba_kernel` — the same loop as one compiled kernel.

References:
    van den Oord et al., "WaveNet: A Generative Model for Raw Audio", 2016.
"""

from synesthesia.models.wavenet import presets as _presets  # noqa: F401  (registers)
from synesthesia.models.wavenet.generation import BACKENDS
from synesthesia.models.wavenet.model import HEADS, WaveNet

__all__ = ["BACKENDS", "HEADS", "WaveNet"]
