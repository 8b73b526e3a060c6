"""synesthesia.nn."""

from synesthesia.nn.losses import ContrastiveLoss, InfoNCELoss, TripletMarginLoss

__all__ = ["ContrastiveLoss", "InfoNCELoss", "TripletMarginLoss"]

from synesthesia.nn.attention import (  # noqa: E402
    AdditiveAttention,
    KVCache,
    MultiHeadAttention,
    StaticKVCache,
)
from synesthesia.nn.positional import (  # noqa: E402
    LearnedPositionalEncoding,
    SinusoidalPositionalEncoding,
    SinusoidalPositionalEncoding2D,
    sinusoidal_positional_encoding,
)
from synesthesia.nn.transformer import (  # noqa: E402
    TransformerCache,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ += [
    "AdditiveAttention",
    "KVCache",
    "LearnedPositionalEncoding",
    "MultiHeadAttention",
    "SinusoidalPositionalEncoding",
    "SinusoidalPositionalEncoding2D",
    "StaticKVCache",
    "TransformerCache",
    "TransformerDecoder",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
    "sinusoidal_positional_encoding",
]

from synesthesia.nn.audio_encoders import LogMelEncoder, SoundNetEncoder  # noqa: E402
from synesthesia.nn.image_encoders import ConvImageEncoder  # noqa: E402
from synesthesia.nn.projection import ProjectionHead  # noqa: E402

__all__ += ["ConvImageEncoder", "LogMelEncoder", "ProjectionHead", "SoundNetEncoder"]

from synesthesia.nn.wavenet_blocks import (  # noqa: E402
    CausalConv1d,
    CausalConvState,
    ConditioningUpsampler,
    GatedResidualBlock,
    upsample_frames,
)

__all__ += [
    "CausalConv1d",
    "CausalConvState",
    "ConditioningUpsampler",
    "GatedResidualBlock",
    "upsample_frames",
]

from synesthesia.nn.resnet import (  # noqa: E402
    BasicBlock,
    Bottleneck,
    ImageEncoder,
    ResNet,
)

__all__ += ["BasicBlock", "Bottleneck", "ImageEncoder", "ResNet"]

from synesthesia.nn.probe import LinearProbe  # noqa: E402

__all__ += ["LinearProbe"]
