"""Caption decoding: batched beam search == an independent per-image beam search; greedy ==
beam 1; finished beams are kept; max_length applies when no <end> is produced."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from synesthesia.errors import ParameterError
from synesthesia.models.caption_search import beam_search, greedy_search
from synesthesia.models.show_attend_tell import ShowAttendTell

VOCAB = 12


def _images(count: int, seed: int) -> torch.Tensor:
    """Images that differ in colour and brightness per region (random noise alone pools to
    nearly the same annotations)."""
    gen = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, 3, 3, dtype=torch.float64, generator=gen) * 4
    return coarse.repeat_interleave(4, dim=2).repeat_interleave(4, dim=3)


def _model(seed: int = 0, end_bias: float = 1.5) -> ShowAttendTell:
    torch.manual_seed(seed)
    model = ShowAttendTell(
        VOCAB,
        encoder_layout="tiny",
        grid_size=2,
        embed_dim=8,
        decoder_dim=16,
        attention_dim=8,
        dropout=0.0,
    ).double()
    with torch.no_grad():  # peaked, varied distributions so captions differ and end early
        model.output.weight.mul_(6.0)
        for layer in (model.init_h, model.init_c, model.output_context):
            layer.weight.mul_(20.0)  # make the words depend strongly on the image
        model.output.bias.normal_(0.0, 1.0)
        model.output.bias[model.end_id] += end_bias
    return model.eval()


def reference_beam_search(model, image, *, beam_size, max_length, length_normalization):
    """Plain per-image beam search over Python lists of hypotheses (no batching tricks).

    A hypothesis that produced <end> is kept as it is and competes with the extensions of
    the unfinished ones at every later step."""
    with torch.no_grad():
        annotations = model.encode(image[None])
        projected = model.attention.project_annotations(annotations)
        state = model.init_state(annotations)
        # (score, tokens, alphas, state, finished)
        hyps = [(0.0, [], [], state, False)]
        mixed = False  # did a finished hypothesis stay in the beam while others went on?
        for _ in range(max_length):
            candidates = []
            for score, tokens, alphas, st, done in hyps:
                if done:
                    candidates.append((score, tokens, alphas, st, True))
                    continue
                previous = tokens[-1] if tokens else model.start_id
                logits, new_state, alpha = model.step(
                    torch.tensor([previous]), st, annotations, projected
                )
                log_probs = F.log_softmax(logits, dim=-1)[0]
                for word in range(log_probs.shape[0]):
                    candidates.append(
                        (
                            score + float(log_probs[word]),
                            [*tokens, word],
                            [*alphas, alpha[0]],
                            new_state,
                            word == model.end_id,
                        )
                    )
            candidates.sort(key=lambda h: -h[0])
            hyps = candidates[:beam_size]
            if all(h[4] for h in hyps):
                break
            mixed = mixed or any(h[4] for h in hyps)

        def rank(h):
            return h[0] / len(h[1]) if length_normalization else h[0]

        best = max(hyps, key=rank)
        return best[1], rank(best), torch.stack(best[2]), mixed


@pytest.mark.parametrize("length_normalization", [False, True])
@pytest.mark.parametrize("seed", [1, 3])
def test_batched_beam_search_equals_per_image_reference(seed, length_normalization):
    model = _model(seed=seed)
    images = _images(5, seed=0)
    out = beam_search(
        model, images, beam_size=4, max_length=7, length_normalization=length_normalization
    )
    mixed_seen = []
    for i in range(images.shape[0]):
        tokens, score, alphas, mixed = reference_beam_search(
            model, images[i], beam_size=4, max_length=7, length_normalization=length_normalization
        )
        n = int(out.lengths[i])
        mixed_seen.append(mixed)
        assert out.tokens[i, :n].tolist() == tokens
        assert bool((out.tokens[i, n:] == model.pad_id).all())
        assert float(out.scores[i]) == pytest.approx(score, abs=1e-10, rel=0)
        torch.testing.assert_close(out.alphas[i, :n], alphas, rtol=0, atol=1e-12)
        assert bool((out.alphas[i, n:] == 0).all())
        # the same function on one image at a time gives the same result (batch-independent)
        single = beam_search(
            model,
            images[i : i + 1],
            beam_size=4,
            max_length=7,
            length_normalization=length_normalization,
        )
        assert single.tokens[0, : int(single.lengths[0])].tolist() == tokens
        assert float(single.scores[0]) == pytest.approx(score, abs=1e-10, rel=0)
    # the case that matters: finished beams stayed in the beam while others went on
    assert any(mixed_seen)


def test_greedy_equals_beam_one():
    model = _model(seed=2)
    images = _images(6, seed=1)
    greedy = greedy_search(model, images, max_length=9)
    beam = beam_search(model, images, beam_size=1, max_length=9)
    assert torch.equal(greedy.tokens, beam.tokens)
    assert torch.equal(greedy.lengths, beam.lengths)
    torch.testing.assert_close(greedy.scores, beam.scores, rtol=0, atol=1e-12)
    torch.testing.assert_close(greedy.alphas, beam.alphas, rtol=0, atol=1e-12)
    via_generate = model.generate(images, beam_size=1, max_length=9)
    assert torch.equal(via_generate.tokens, greedy.tokens)


def test_max_length_when_no_end_token_and_beam_beats_greedy():
    model = _model(seed=3, end_bias=-50.0)  # <end> practically never chosen
    images = _images(3, seed=2)
    out = beam_search(model, images, beam_size=3, max_length=5)
    assert out.tokens.shape == (3, 5) and out.lengths.tolist() == [5, 5, 5]
    assert not bool((out.tokens == model.end_id).any())
    greedy = greedy_search(model, images, max_length=5)
    assert bool((out.scores >= greedy.scores - 1e-12).all())
    # alphas are distributions over the P regions for every generated word
    torch.testing.assert_close(out.alphas.sum(-1), torch.ones(3, 5, dtype=torch.float64))


def test_search_argument_errors():
    model = _model()
    images = torch.rand(1, 3, 12, 12, dtype=torch.float64)
    with pytest.raises(ParameterError, match="beam_size"):
        beam_search(model, images, beam_size=0)
    with pytest.raises(ParameterError, match="beam_size"):
        beam_search(model, images, beam_size=VOCAB + 1)
    with pytest.raises(ParameterError, match="max_length"):
        greedy_search(model, images, max_length=0)
    with pytest.raises(ParameterError, match="images"):
        greedy_search(model, torch.rand(3, 12, 12, dtype=torch.float64))


def test_every_search_entry_point_runs_without_gradients_and_restores_the_mode():
    """greedy_search, beam_search, beam_search_annotations and decode_captions build no
    autograd graph; decode_captions decodes in eval mode and gives the model its mode back."""
    from synesthesia.models.caption_search import beam_search_annotations, decode_captions

    model = _model().train()
    images = _images(2, seed=3)
    annotations = model.encode(images)
    assert annotations.requires_grad
    outputs = [
        greedy_search(model.eval(), images, max_length=4),
        beam_search(model, images, beam_size=2, max_length=4),
        beam_search_annotations(model, annotations, beam_size=2, max_length=4),
    ]
    model.train()
    outputs.append(decode_captions(model, images, beam_size=2, max_length=4))
    assert model.training
    for out in outputs:
        assert not out.scores.requires_grad and not out.alphas.requires_grad
    torch.testing.assert_close(outputs[3].scores, outputs[1].scores)
