"""Show, Attend and Tell: shapes, masking, the loss, save/load, and learning on digit strips."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from synesthesia.data.digit_strips import DIGIT_WORDS, make_digit_strips
from synesthesia.errors import ParameterError
from synesthesia.models import create_model, list_models, load_pretrained
from synesthesia.models.show_attend_tell import ShowAttendTell
from synesthesia.text.vocab import SPECIAL_TOKENS, Vocabulary

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _small(**overrides) -> ShowAttendTell:
    torch.manual_seed(0)
    config = dict(
        encoder_layout="tiny",
        grid_size=(2, 3),
        embed_dim=8,
        decoder_dim=16,
        attention_dim=8,
        dropout=0.0,
    )
    return ShowAttendTell(11, **{**config, **overrides})


def _batch(dtype=torch.float32):
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(3, 3, 16, 24, generator=gen, dtype=dtype)
    captions = torch.tensor([[1, 4, 5, 6, 7, 2], [1, 8, 2, 0, 0, 0], [1, 9, 10, 2, 0, 0]])
    return images, captions, torch.tensor([6, 3, 4])


def test_presets_registered_and_tiny_runs():
    assert {"sat_tiny", "sat_resnet18", "sat_resnet50"} <= set(list_models("sat_*"))
    model = create_model("sat_tiny")
    strips = make_digit_strips(2, seed=0)
    captions = torch.tensor([[1, 5, 6, 2], [1, 7, 2, 0]])
    logits, alphas = model(strips.images, captions, torch.tensor([4, 3]))
    assert logits.shape == (2, 3, 14) and alphas.shape == (2, 3, 16)
    out = model.generate(strips.images, beam_size=2, max_length=5)
    assert out.tokens.shape[0] == 2 and out.alphas.shape[-1] == 16
    assert model.attention_maps(out.alphas).shape[-2:] == (2, 8)


def test_shapes_masking_and_every_parameter_gets_a_gradient():
    model = _small()
    images, captions, lengths = _batch()
    logits, alphas = model(images, captions, lengths)
    assert logits.shape == (3, 5, 11) and alphas.shape == (3, 5, 6)
    assert torch.isfinite(logits).all()
    # steps past each caption's length are zeroed; valid ones are distributions
    assert (logits[1, 2:] == 0).all() and (alphas[2, 3:] == 0).all()
    torch.testing.assert_close(alphas[0].sum(-1), torch.ones(5))
    model.loss(logits, alphas, captions, lengths)["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert not missing, missing


def test_padded_batch_equals_each_caption_alone():
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


def test_loss_matches_the_formula():
    model = _small(alpha_regularization=0.7).double()
    images, captions, lengths = _batch(torch.float64)
    with torch.no_grad():
        logits, alphas = model(images, captions, lengths)
        parts = model.loss(logits, alphas, captions, lengths)
    nll, count, regs = 0.0, 0, []
    for i in range(3):
        n = int(lengths[i]) - 1
        log_probs = F.log_softmax(logits[i, :n], dim=-1)
        nll -= float(log_probs[torch.arange(n), captions[i, 1 : n + 1]].sum())
        count += n
        regs.append(float(((1 - alphas[i, :n].sum(0)) ** 2).sum()))
    assert float(parts["cross_entropy"]) == pytest.approx(nll / count, rel=1e-12)
    assert float(parts["attention_regularization"]) == pytest.approx(sum(regs) / 3, rel=1e-12)
    assert float(parts["loss"]) == pytest.approx(nll / count + 0.7 * sum(regs) / 3, rel=1e-12)


def test_save_and_reload_give_the_same_captions(tmp_path):
    model = _small().eval()
    images = _batch()[0]
    model.save_pretrained(tmp_path / "sat")
    again = load_pretrained(tmp_path / "sat")
    assert isinstance(again, ShowAttendTell) and again.grid_size == (2, 3)
    a, b = model.generate(images, beam_size=3), again.generate(images, beam_size=3)
    assert torch.equal(a.tokens, b.tokens)
    torch.testing.assert_close(a.scores, b.scores)


def test_bad_arguments_name_themselves():
    model = _small()
    images, captions, lengths = _batch()
    with pytest.raises(ParameterError, match="caption_lengths"):
        model(images, captions, torch.tensor([7, 3, 4]))
    with pytest.raises(ParameterError, match="images"):
        model(images[:, :1], captions, lengths)
    with pytest.raises(ParameterError, match="vocab_size"):
        ShowAttendTell(0)
    with pytest.raises(ParameterError, match="end_id"):
        ShowAttendTell(2, end_id=2)


@pytest.mark.slow
def test_sat_tiny_overfits_a_batch_of_digit_strips():
    torch.manual_seed(0)
    strips = make_digit_strips(8, seed=0)
    vocab = Vocabulary([*SPECIAL_TOKENS, *DIGIT_WORDS])
    encoded = [vocab.encode(c) for c in strips.captions]
    lengths = torch.tensor([len(e) for e in encoded])
    captions = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
    for i, e in enumerate(encoded):
        captions[i, : len(e)] = torch.tensor(e)
    model = create_model("sat_tiny")
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    history = []
    for _ in range(40):
        logits, alphas = model(strips.images, captions, lengths)
        parts = model.loss(logits, alphas, captions, lengths)
        optimizer.zero_grad()
        parts["loss"].backward()
        optimizer.step()
        history.append(float(parts["cross_entropy"].detach()))
    assert history[-1] < 0.1 * history[0], history
    # few steps on one small batch: re-estimate BatchNorm statistics before evaluating
    model.encoder.recalibrate_batch_norm([strips.images])
    model.eval()
    out = model.generate(strips.images, beam_size=3, max_length=6)
    decoded = [vocab.decode(t) for t in out.tokens]
    assert sum(d == c for d, c in zip(decoded, strips.captions)) >= 6, (decoded, strips.captions)
