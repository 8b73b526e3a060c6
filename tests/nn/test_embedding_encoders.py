"""Audio/image encoders and projection heads for joint embeddings."""

from __future__ import annotations

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.nn.audio_encoders import LogMelEncoder, SoundNetEncoder, masked_mean
from synesthesia.nn.image_encoders import ConvImageEncoder
from synesthesia.nn.projection import ProjectionHead


def _soundnet():
    return SoundNetEncoder(
        channels=(4, 8, 8), kernel_sizes=(16, 8, 4), strides=(2, 2, 2), pool_sizes=(4, 2, 1)
    )


def test_soundnet_output_length_matches_the_real_stack_and_min_length_is_tight():
    enc = _soundnet().eval()
    for length in (enc.min_length, enc.min_length + 1, 97, 500, 1237):
        frames = enc.layers(torch.randn(1, 1, length)).shape[-1]
        assert frames == enc.output_length(length) >= 1
    assert enc.output_length(enc.min_length - 1) == 0
    lengths = torch.arange(1, 1300)  # the tensor path (used for waveform_lengths) agrees
    assert enc.output_length(lengths).tolist() == [enc.output_length(n) for n in range(1, 1300)]
    with pytest.raises(ParameterError, match=f"T={enc.min_length - 1}"):
        enc(torch.randn(2, enc.min_length - 1))


def test_default_soundnet_layout_and_its_minimum():
    enc = SoundNetEncoder().eval()  # the reference's first five layers and three pools
    assert enc.output_dim == 256 and enc.min_length > 2 * 8 * 2 * 8
    assert enc(torch.randn(2, 22050)).shape == (2, 256)
    with pytest.raises(ParameterError, match="waveform length T=100 "):
        enc(torch.randn(1, 100))


@pytest.mark.parametrize(
    "factory,shape",
    [
        (lambda: _soundnet(), (3, 400)),
        (lambda: LogMelEncoder(n_mels=16, channels=(4, 8)), (3, 16, 40)),
    ],
)
def test_lengths_make_features_independent_of_padding(factory, shape):
    torch.manual_seed(0)
    enc = factory().eval()
    x = torch.randn(*shape)
    length = shape[-1] // 2
    padded = x.clone()
    padded[..., length:] = 0
    longer = torch.cat([padded, torch.randn(*shape[:-1], 64)], dim=-1)  # different padding
    lengths = torch.full((shape[0],), length)
    a = enc(padded, lengths)
    b = enc(longer, lengths)
    # receptive fields overlap the boundary a little: compare with a tolerance, and check
    # that ignoring lengths changes the result (the masking does something)
    torch.testing.assert_close(a, b, rtol=0.15, atol=0.15)
    assert not torch.allclose(enc(longer), b, atol=1e-3)


def test_masked_mean_by_hand():
    x = torch.tensor([[[1.0, 2.0, 3.0, 100.0]], [[4.0, 4.0, 4.0, 4.0]]])
    out = masked_mean(x, torch.tensor([3, 4]))
    torch.testing.assert_close(out, torch.tensor([[2.0], [4.0]]))


def test_logmel_encoder_shapes_and_errors():
    enc = LogMelEncoder(n_mels=16, channels=(4, 8))
    assert enc(torch.randn(2, 16, 20)).shape == (2, 8)
    with pytest.raises(ParameterError, match="N=3 frames"):
        enc(torch.randn(2, 16, 3))
    with pytest.raises(ParameterError, match="M=16"):
        enc(torch.randn(2, 8, 20))
    with pytest.raises(ParameterError, match="n_mels=2"):
        LogMelEncoder(n_mels=2, channels=(4, 8))
    with pytest.raises(ParameterError, match="mel_lengths"):
        enc(torch.randn(2, 16, 20), torch.tensor([0, 20]))


def test_image_encoder_accepts_any_size_and_checks_channels():
    enc = ConvImageEncoder(in_channels=3, channels=(4, 8, 8))
    for size in ((8, 8), (1, 1), (33, 17)):
        assert enc(torch.rand(2, 3, *size)).shape == (2, 8)
    with pytest.raises(ParameterError, match="C=3"):
        enc(torch.rand(2, 1, 8, 8))
    with pytest.raises(ParameterError, match="channels=()"):
        ConvImageEncoder(channels=())


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_projection_head_gives_unit_norm_and_follows_dtype(dtype):
    head = ProjectionHead(12, embedding_dim=5, hidden_dim=7, num_layers=3).to(dtype)
    z = head(torch.randn(9, 12, dtype=dtype))
    assert z.shape == (9, 5) and z.dtype == dtype
    torch.testing.assert_close(z.norm(dim=1), torch.ones(9, dtype=dtype))
    with pytest.raises(ParameterError, match="embedding_dim=0"):
        ProjectionHead(12, embedding_dim=0)
