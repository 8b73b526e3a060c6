"""synesthesia: multimodal learning in PyTorch — machines that see, hear and speak.

Layers (imports point one way): errors/config/utils → functional → transforms, nn → models →
metrics, io, data, text → training, pipelines, viz → cli. See docs/architecture.md.
"""

from synesthesia.config import AudioConfig
from synesthesia.errors import ConfigMismatchError, ParameterError

__version__ = "0.1.0"

__all__ = ["AudioConfig", "ConfigMismatchError", "ParameterError", "__version__"]
