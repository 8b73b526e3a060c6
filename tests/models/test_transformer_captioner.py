"""Transformer captioner: shapes, masking, cached == uncached decoding, the attention-map
contract shared with Show, Attend and Tell, save/load, errors and learning on digit strips."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
from synesthesia.errors import ParameterError
from synesthesia.models import create_model, list_models, load_pretrained, model_defaults
from synesthesia.models.transformer_captioner import TransformerCaptioner
from synesthesia.text.vocab import SPECIAL_TOKENS, Vocabulary

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _small(**overrides) -> TransformerCaptioner:
    torch.manual_seed(0)
    config = dict(
        encoder_layout="tiny",
        grid_size=(2, 3),
        embed_dim=16,
        num_layers=2,
        num_heads=2,
        ff_dim=32,
        dropout=0.0,
        max_length=24,
    )
    return TransformerCaptioner(11, **{**config, **overrides})


def _batch(dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(3, 3, 16, 24, generator=gen, dtype=dtype)
    captions = torch.tensor([[1, 4, 5, 6, 7, 2], [1, 8, 2, 0, 0, 0], [1, 9, 10, 2, 0, 0]])
    return images, captions, torch.tensor([6, 3, 4])


def _peaked(model: TransformerCaptioner, end_bias: float = 0.5) -> TransformerCaptioner:
    """Random weights made decisive, so that captions vary by image and beams diverge."""
    with torch.no_grad():
        for parameter in model.decoder.parameters():
            parameter.mul_(3.0)
        model.region_proj.weight.mul_(5.0)
        model.output_bias.normal_(0.0, 1.0)
        model.output_bias[model.end_id] += end_bias
    return model.eval()


def _images(count: int, dtype=torch.float32) -> torch.Tensor:
    gen = torch.Generator().manual_seed(1)
    coarse = torch.rand(count, 3, 2, 3, generator=gen, dtype=dtype) * 4
    return coarse.repeat_interleave(8, dim=2).repeat_interleave(8, dim=3)  # (B, 3, 16, 24)


def test_presets_registered_and_tiny_runs():
    assert {"transformer_captioner_tiny", "transformer_captioner_small"} <= set(
        list_models("transformer_captioner_*")
    )
    small = model_defaults("transformer_captioner_small")
    assert small["encoder_layout"] == "resnet18" and small["vocab_size"] == 10000
    model = create_model("transformer_captioner_tiny")
    strips = make_digit_strips(2, seed=0)
    captions = torch.tensor([[1, 5, 6, 2], [1, 7, 2, 0]])
    logits, alphas = model(strips.images, captions, torch.tensor([4, 3]))
    assert logits.shape == (2, 3, 14) and alphas.shape == (2, 3, 16)
    out = model.generate(strips.images, beam_size=2, max_length=5)
    assert out.tokens.shape[0] == 2 and out.alphas.shape[-1] == 16
    assert out.head_alphas.shape[2:] == (2, 16)
    assert model.attention_maps(out.alphas).shape[-2:] == (2, 8)


def test_shapes_masking_tied_embeddings_and_every_parameter_gets_a_gradient():
    model = _small()
    images, captions, lengths = _batch()
    logits, alphas = model(images, captions, lengths)
    assert logits.shape == (3, 5, 11) and alphas.shape == (3, 5, 6)
    assert torch.isfinite(logits).all()
    assert (logits[1, 2:] == 0).all() and (alphas[2, 3:] == 0).all()
    torch.testing.assert_close(alphas[0].sum(-1), torch.ones(5))
    # tied: the output layer is the embedding matrix itself (no separate output weight)
    hidden = torch.randn(4, 16)
    torch.testing.assert_close(
        model.logits(hidden), hidden @ model.embedding.weight.T + model.output_bias
    )
    assert not any("output" in n and n != "output_bias" for n, _ in model.named_parameters())
    model.loss(logits, alphas, captions, lengths)["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing, missing


def test_padded_batch_equals_each_caption_alone_and_the_future_is_masked():
    model = _small().double().eval()
    images, captions, lengths = _batch(torch.float64)
    logits, alphas = model(images, captions, lengths)
    for i in range(3):
        n = int(lengths[i])
        alone_logits, alone_alphas = model(
            images[i : i + 1], captions[i : i + 1, :n], lengths[i : i + 1]
        )
        torch.testing.assert_close(logits[i, : n - 1], alone_logits[0], rtol=0, atol=1e-12)
        torch.testing.assert_close(alphas[i, : n - 1], alone_alphas[0], rtol=0, atol=1e-12)
    # changing a later word never changes an earlier prediction (causal self-attention)
    changed = captions.clone()
    changed[0, 4] = 3
    again, _ = model(images, changed, lengths)
    torch.testing.assert_close(again[0, :4], logits[0, :4], rtol=0, atol=1e-12)
    assert not torch.allclose(again[0, 4], logits[0, 4])


def test_loss_is_the_token_mean_cross_entropy():
    model = _small().double()
    images, captions, lengths = _batch(torch.float64)
    with torch.no_grad():
        logits, alphas = model(images, captions, lengths)
        parts = model.loss(logits, alphas, captions, lengths)
    nll, count = 0.0, 0
    for i in range(3):
        n = int(lengths[i]) - 1
        log_probs = F.log_softmax(logits[i, :n], dim=-1)
        nll -= float(log_probs[torch.arange(n), captions[i, 1 : n + 1]].sum())
        count += n
    assert float(parts["cross_entropy"]) == pytest.approx(nll / count, rel=1e-12)
    assert float(parts["loss"]) == float(parts["cross_entropy"])
    assert float(parts["attention_regularization"]) == 0.0


@pytest.mark.parametrize(
    ("dtype", "position_code"),
    [(torch.float64, "keys_values"), (torch.float32, "keys_values"), (torch.float64, "keys")],
)
@pytest.mark.parametrize("beam_size", [1, 3])
def test_cached_decoding_equals_uncached(beam_size, dtype, position_code):
    """The KV cache changes the cost, not the result: same captions, scores and maps."""
    model = _peaked(_small(position_code=position_code)).to(dtype)
    images = _images(5, dtype)
    cached = model.generate(images, beam_size=beam_size, max_length=12)
    full = model.generate(images, beam_size=beam_size, max_length=12, use_cache=False)
    assert torch.equal(cached.tokens, full.tokens)
    assert torch.equal(cached.lengths, full.lengths)
    assert len({tuple(t.tolist()) for t in cached.tokens}) > 1  # captions differ by image
    tolerance = 1e-12 if dtype == torch.float64 else 1e-5
    torch.testing.assert_close(cached.scores, full.scores, rtol=0, atol=tolerance)
    torch.testing.assert_close(cached.head_alphas, full.head_alphas, rtol=0, atol=tolerance)


@pytest.mark.parametrize("position_code", ["keys_values", "keys"])
def test_batched_beam_search_equals_one_image_at_a_time(position_code):
    model = _peaked(_small(position_code=position_code)).double()
    images = _images(4, torch.float64)
    batched = model.generate(images, beam_size=3, max_length=10)
    for i in range(4):
        alone = model.generate(images[i : i + 1], beam_size=3, max_length=10)
        n = int(alone.lengths[0])
        assert int(batched.lengths[i]) == n
        assert torch.equal(batched.tokens[i, :n], alone.tokens[0, :n])
        torch.testing.assert_close(batched.scores[i], alone.scores[0], rtol=0, atol=1e-12)
        torch.testing.assert_close(batched.alphas[i, :n], alone.alphas[0, :n], rtol=0, atol=1e-12)


@pytest.mark.parametrize("position_code", ["keys_values", "keys"])
def test_greedy_search_is_beam_one_and_matches_teacher_forcing(position_code):
    """Greedy tokens re-fed through the teacher-forced forward give the same attention maps
    and a score equal to the sum of their log-probabilities."""
    model = _peaked(_small(position_code=position_code)).double()
    images = _images(3, torch.float64)
    out = model.generate(images, beam_size=1, max_length=8)
    start = torch.full_like(out.tokens[:, :1], model.start_id)
    captions = torch.cat([start, out.tokens], dim=1)
    with torch.no_grad():
        logits, alphas = model(images, captions, out.lengths + 1)
    for i in range(3):
        n = int(out.lengths[i])
        log_probs = F.log_softmax(logits[i, :n], dim=-1)
        score = log_probs[torch.arange(n), out.tokens[i, :n]].sum()
        torch.testing.assert_close(out.scores[i], score, rtol=0, atol=1e-10)
        torch.testing.assert_close(out.alphas[i, :n], alphas[i, :n], rtol=0, atol=1e-10)


def test_attention_maps_contract():
    """As for Show, Attend and Tell: alphas (B, L, P) are distributions over the P regions for
    every generated word and zero past its length; attention_maps reshapes them to the grid.
    Per head: head_alphas (B, L, H, P), each a distribution, whose mean is alphas."""
    model = _peaked(_small(), end_bias=1.0)
    out = model.generate(_images(4), beam_size=3, max_length=10)
    batch, length = out.tokens.shape
    assert out.alphas.shape == (batch, length, 6)
    assert out.head_alphas.shape == (batch, length, 2, 6)
    valid = torch.arange(length)[None, :] < out.lengths[:, None]  # (B, L)
    assert bool((out.lengths < length).any())  # some captions end early: padding is checked
    torch.testing.assert_close(out.alphas.sum(-1)[valid], torch.ones(int(valid.sum())))
    torch.testing.assert_close(out.head_alphas.sum(-1)[valid], torch.ones(int(valid.sum()), 2))
    assert (out.alphas[~valid] == 0).all() and (out.head_alphas[~valid] == 0).all()
    torch.testing.assert_close(out.head_alphas.mean(dim=2), out.alphas)
    assert model.attention_maps(out.alphas).shape == (batch, length, 2, 3)
    assert model.attention_maps(out.head_alphas).shape == (batch, length, 2, 2, 3)
    # the maps are the chosen layer's cross-attention: layer 0 gives other maps
    first = _peaked(_small(attention_layer=0), end_bias=1.0)
    first.load_state_dict(model.state_dict())
    other = first.generate(_images(4), beam_size=3, max_length=10)
    assert torch.equal(other.tokens, out.tokens)
    assert not torch.allclose(other.alphas, out.alphas)


def test_save_and_reload_give_the_same_captions(tmp_path):
    model = _peaked(_small())
    images = _images(3)
    model.save_pretrained(tmp_path / "tc")
    again = load_pretrained(tmp_path / "tc")
    assert isinstance(again, TransformerCaptioner) and again.grid_size == (2, 3)
    assert "encoder_weights" not in again.get_config()
    a, b = model.generate(images, beam_size=3), again.generate(images, beam_size=3)
    assert torch.equal(a.tokens, b.tokens)
    torch.testing.assert_close(a.scores, b.scores)


def test_encoder_weights_initialise_the_encoder(tmp_path):
    from safetensors.torch import save_file

    source = _small()
    state = {k: v.clone() for k, v in source.encoder.trunk.state_dict().items()}
    save_file(state, str(tmp_path / "trunk.safetensors"))
    torch.manual_seed(1)
    model = _small(encoder_weights=str(tmp_path / "trunk.safetensors"))
    for name, value in model.encoder.trunk.state_dict().items():
        assert torch.equal(value, state[name]), name


def test_position_code_on_keys_only_leaves_the_values_without_it():
    """position_code="keys": the memory the layers read back holds no position code, the
    keys do; with the same weights the two placements attend differently, and the setting
    survives get_config."""
    both = _small().double().eval()
    keys = _small(position_code="keys").double().eval()
    keys.load_state_dict(both.state_dict())
    images, captions, lengths = _batch(torch.float64)
    annotations = both.encode(images)
    with_code = both.project_annotations(annotations)
    plain = keys.project_annotations(annotations)
    torch.testing.assert_close(with_code, plain + keys.memory_position(plain))
    assert both.memory_position(with_code) is None
    with torch.no_grad():
        assert not torch.allclose(
            both(images, captions, lengths)[1], keys(images, captions, lengths)[1]
        )
    assert TransformerCaptioner(**keys.get_config()).position_code == "keys"


def test_learned_region_embedding_is_added_to_the_annotations(tmp_path):
    """position_embedding=True: one learned vector per region (P, D_enc) added to the
    encoder's annotations; it learns, survives saving, and decoding stays cache-exact."""
    model = _small(position_embedding=True).double()
    plain = _small().double()
    plain.load_state_dict(
        {k: v for k, v in model.state_dict().items() if k != "position_embedding"}
    )
    images, captions, lengths = _batch(torch.float64)
    assert model.position_embedding.shape == (6, model.encoder_dim)
    model.eval(), plain.eval()
    torch.testing.assert_close(
        model.encode(images), plain.encode(images) + model.position_embedding
    )
    model.train()
    logits, _ = model(images, captions, lengths)
    logits.square().sum().backward()
    assert model.position_embedding.grad is not None
    assert model.position_embedding.grad.abs().sum() > 0
    peaked = _peaked(model)
    cached = peaked.generate(_images(3, torch.float64), beam_size=3, max_length=8)
    full = peaked.generate(_images(3, torch.float64), beam_size=3, max_length=8, use_cache=False)
    assert torch.equal(cached.tokens, full.tokens)
    peaked.save_pretrained(tmp_path / "m")
    from synesthesia.models import load_pretrained

    again = load_pretrained(tmp_path / "m").double().eval()
    assert again.get_config()["position_embedding"] is True
    torch.testing.assert_close(again.encode(images), peaked.encode(images))


def test_bad_arguments_name_themselves():
    model = _small()
    images, captions, lengths = _batch()
    with pytest.raises(ParameterError, match="caption_lengths"):
        model(images, captions, torch.tensor([7, 3, 4]))
    with pytest.raises(ParameterError, match="images"):
        model(images[:, :1], captions, lengths)
    with pytest.raises(ParameterError, match="vocab_size=0"):
        TransformerCaptioner(0)
    with pytest.raises(ParameterError, match="end_id=2"):
        TransformerCaptioner(2, end_id=2)
    with pytest.raises(ParameterError, match="embed_dim=18"):
        _small(embed_dim=18, num_heads=2)
    with pytest.raises(ParameterError, match="attention_layer=2"):
        _small(attention_layer=2)
    with pytest.raises(ParameterError, match="position_code='values'"):
        _small(position_code="values")
    with pytest.raises(ParameterError, match="max_length=30"):
        model.generate(images, max_length=30)
    with pytest.raises(ParameterError, match="beam_size=0"):
        model.generate(images, beam_size=0)


def test_learns_digit_strips_loss_falls():
    """A few optimiser steps on one batch of real strips: the cross-entropy falls."""
    torch.manual_seed(0)
    strips = make_digit_strips(8, seed=0)
    vocab = Vocabulary([*SPECIAL_TOKENS, *DIGIT_WORDS])
    encoded = [vocab.encode(c) for c in strips.captions]
    lengths = torch.tensor([len(e) for e in encoded])
    captions = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
    for i, e in enumerate(encoded):
        captions[i, : len(e)] = torch.tensor(e)
    model = create_model("transformer_captioner_tiny")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for _ in range(40):
        logits, alphas = model(strips.images, captions, lengths)
        loss = model.loss(logits, alphas, captions, lengths)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(float(loss.detach()))
    assert history[-1] < 0.2 * history[0], history
