"""Tacotron 2: shapes, masking (batched == per item), loss terms, infer, and overfitting two
real eSpeak NG utterances with guided attention (loss falls, alignment becomes diagonal)."""

from __future__ import annotations

import pytest
import torch

from synesthesia.config import AudioConfig
from synesthesia.errors import ParameterError
from synesthesia.metrics import diagonality
from synesthesia.models import Tacotron2, create_model
from synesthesia.models.tacotron2 import guided_attention_weights

AUDIO = AudioConfig(sample_rate=22050, n_fft=1024, hop_length=256, win_length=1024, n_mels=20,
                    f_max=8000.0)  # fmt: skip


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _batch(num_mels: int = 20):
    generator = torch.Generator().manual_seed(1)
    token_lengths = torch.tensor([9, 5, 7])
    tokens = torch.randint(4, 79, (3, 9), generator=generator)
    tokens = tokens * (torch.arange(9) < token_lengths[:, None])
    mel_lengths = torch.tensor([13, 7, 10])
    mel = torch.randn(3, num_mels, 13, generator=generator, dtype=torch.float64)
    mel = mel * (torch.arange(13) < mel_lengths[:, None]).unsqueeze(1)
    return tokens, token_lengths, mel, mel_lengths


@pytest.mark.parametrize("reduction_factor", [1, 3])
def test_shapes(reduction_factor):
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny", reduction_factor=reduction_factor).double()
    tokens, token_lengths, mel, mel_lengths = _batch()
    out = model(tokens, token_lengths, mel, mel_lengths)
    frames = -(-13 // reduction_factor) * reduction_factor
    assert out["mel_before"].shape == out["mel_after"].shape == (3, 20, frames)
    assert out["stop_logits"].shape == (3, frames)
    assert out["alignments"].shape == (3, frames // reduction_factor, 9)
    assert out["mel_after"].dtype == torch.float64
    alignments = out["alignments"]
    torch.testing.assert_close(alignments.sum(-1), torch.ones_like(alignments[..., 0]))
    assert (alignments[1, :, 5:] == 0).all()  # padded tokens get no attention
    assert (out["mel_after"][1, :, 7:] == 0).all()  # frames past mel_lengths are zero


@pytest.mark.parametrize("reduction_factor", [1, 2])
def test_padding_does_not_change_valid_outputs(reduction_factor):
    """Eval mode (BatchNorm running stats); the pre-net dropout stays on, with per-step masks
    shared by the batch, so each item alone must give the same values."""
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny", reduction_factor=reduction_factor)
    model = model.double().eval()
    tokens, token_lengths, mel, mel_lengths = _batch()
    with torch.no_grad():
        batched = model(tokens, token_lengths, mel, mel_lengths)
        for i in range(3):
            length, frames = int(token_lengths[i]), int(mel_lengths[i])
            alone = model(tokens[i : i + 1, :length], token_lengths[i : i + 1],
                          mel[i : i + 1, :, :frames], mel_lengths[i : i + 1])  # fmt: skip
            for key in ("mel_before", "mel_after"):
                torch.testing.assert_close(batched[key][i, :, :frames], alone[key][0, :, :frames],
                                           rtol=1e-10, atol=1e-10)  # fmt: skip
            torch.testing.assert_close(
                batched["stop_logits"][i, :frames],
                alone["stop_logits"][0, :frames],
                rtol=1e-10,
                atol=1e-10,
            )
            steps = -(-frames // reduction_factor)
            torch.testing.assert_close(
                batched["alignments"][i, :steps, :length],
                alone["alignments"][0, :steps],
                rtol=1e-10,
                atol=1e-10,
            )


@pytest.mark.parametrize(("reduction_factor", "offset"), [(1, 2.0), (2, 123.5)])
def test_batched_inference_equals_per_item_inference(reduction_factor, offset):
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny", reduction_factor=reduction_factor).double().eval()
    with torch.no_grad():  # sharpen the untrained stop logits (the offsets were read off their
        stop = model.stop_projection  # trajectories) so that the items stop at different steps
        stop.weight.copy_(stop.weight[:1].expand_as(stop.weight) * 1000.0)
        stop.bias.copy_(stop.bias[:1].expand_as(stop.bias) * 1000.0 - offset)
    tokens, token_lengths, _, _ = _batch()
    mel, mel_lengths, alignments = model.infer(tokens, token_lengths, max_decoder_steps=12)
    assert len(set(mel_lengths.tolist())) > 1, "the test needs items of different lengths"
    for i in range(3):
        length, frames = int(token_lengths[i]), int(mel_lengths[i])
        alone, alone_lengths, alone_alignments = model.infer(
            tokens[i : i + 1, :length], token_lengths[i : i + 1], max_decoder_steps=12
        )
        assert int(alone_lengths[0]) == frames
        torch.testing.assert_close(mel[i, :, :frames], alone[0, :, :frames], rtol=1e-10,
                                   atol=1e-10)  # fmt: skip
        assert (mel[i, :, frames:] == 0).all()
        steps = -(-frames // reduction_factor)
        torch.testing.assert_close(alignments[i, :steps, :length], alone_alignments[0, :steps],
                                   rtol=1e-10, atol=1e-10)  # fmt: skip


def test_eval_prenet_masks_depend_on_the_step_only():
    model = create_model("tacotron2_tiny").eval()
    short, long = (
        model._eval_masks(5, torch.device("cpu")),
        model._eval_masks(40, torch.device("cpu")),
    )
    assert torch.equal(short, long[:5])
    keep = long.mean().item()
    assert abs(keep - (1 - model.prenet_dropout)) < 0.05
    assert model.train()._eval_masks(5, torch.device("cpu")) is None


def test_prenet_dropout_is_on_at_inference_and_seeded():
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny").eval()
    tokens, token_lengths, mel, mel_lengths = _batch()
    mel = mel.float()
    a = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    b = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    assert torch.equal(a, b)  # eval mode: masks from a generator seeded with inference_seed
    model.inference_seed = 1
    c = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    assert not torch.equal(a, c)  # dropout is on: another seed gives other masks
    model.prenet_dropout = 0.0
    d = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    assert not torch.equal(a, d) and not torch.equal(c, d)
    model.train()
    e = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    model.prenet_dropout = 0.5
    f = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    g = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    assert not torch.equal(f, g) and not torch.equal(e, f)  # training: global RNG


def test_loss_terms():
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny").double()
    tokens, token_lengths, mel, mel_lengths = _batch()
    out = model(tokens, token_lengths, mel, mel_lengths)
    terms = model.loss(out, mel, mel_lengths, token_lengths=token_lengths,
                       guided_attention_weight=2.0)  # fmt: skip
    mask = (torch.arange(14) < mel_lengths[:, None]).unsqueeze(1).expand(3, 20, 14)
    target = torch.nn.functional.pad(mel, (0, 1))
    expected_mel = sum(((out[k] - target)[mask] ** 2).mean() for k in ("mel_before", "mel_after"))
    torch.testing.assert_close(terms["mel"], expected_mel)
    stop_target = (torch.arange(14) >= (mel_lengths - 1)[:, None]).double()
    torch.testing.assert_close(terms["stop"], torch.nn.functional.binary_cross_entropy(
        torch.sigmoid(out["stop_logits"]), stop_target))  # fmt: skip
    torch.testing.assert_close(terms["loss"], terms["mel"] + terms["stop"] + 2 * terms["guided"])
    l1 = model.loss(out, mel, mel_lengths, mel_loss="l1")
    assert l1["guided"].item() == 0.0
    with pytest.raises(ParameterError, match="token_lengths"):
        model.loss(out, mel, mel_lengths, guided_attention_weight=1.0)
    with pytest.raises(ParameterError, match="mel_loss"):
        model.loss(out, mel, mel_lengths, mel_loss="l3")


def test_guided_attention_weights_zero_on_diagonal():
    weights = guided_attention_weights(torch.tensor([4]), torch.tensor([4]), num_steps=6,
                                       num_tokens=5, sigma=0.2)  # fmt: skip
    assert weights.shape == (1, 6, 5)
    assert torch.diagonal(weights[0, :4, :4]).abs().max() == 0
    assert weights[0, 0, 3] > 0.9 and (weights[0, 4:] == 0).all() and (weights[0, :, 4] == 0).all()


def test_infer_batched_and_errors():
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny").eval()
    tokens, token_lengths, _, _ = _batch()
    mel, mel_lengths, alignments = model.infer(tokens, token_lengths, max_decoder_steps=6)
    assert mel.shape[:2] == (3, 20) and mel_lengths.shape == (3,)
    assert (mel_lengths >= 1).all() and (mel_lengths <= mel.shape[-1]).all()
    assert alignments.shape == (3, mel.shape[-1] // 2, 9)
    for i in range(3):
        assert (mel[i, :, int(mel_lengths[i]) :] == 0).all()
    again = model.infer(tokens, token_lengths, max_decoder_steps=6)
    torch.testing.assert_close(again[0], mel, rtol=0, atol=0)  # seeded pre-net dropout
    mel64, _, _ = model.double().infer(tokens, token_lengths, max_decoder_steps=3)
    assert mel64.dtype == torch.float64 and torch.isfinite(mel64).all()
    model.float()
    with pytest.raises(ParameterError, match="max_decoder_steps"):
        model.infer(tokens, token_lengths, max_decoder_steps=0)
    with pytest.raises(ParameterError, match="token_lengths"):
        model.infer(tokens, torch.tensor([9, 0, 3]))
    with pytest.raises(ParameterError, match="audio_config"):
        Tacotron2(audio_config={"n_mels": 80})
    with pytest.raises(ParameterError, match="reduction_factor"):
        Tacotron2(reduction_factor=0)


def _espeak_batch():
    from synesthesia.data.espeak import EspeakSynthesizer
    from synesthesia.text import TextProcessor
    from synesthesia.transforms.audio import LogMelSpectrogram

    texts = ["hello world", "good morning"]
    tokens, token_lengths = TextProcessor("phonemes").batch(texts)
    synthesizer, analysis = EspeakSynthesizer(), LogMelSpectrogram.from_config(AUDIO)
    mels = [analysis(synthesizer.synthesize(t, voice="en-us", rate=250)[0].float()) for t in texts]
    mel_lengths = torch.tensor([m.shape[-1] for m in mels])
    mel = torch.nn.utils.rnn.pad_sequence([m.T for m in mels], batch_first=True).transpose(1, 2)
    valid = (torch.arange(mel.shape[-1]) < mel_lengths[:, None]).unsqueeze(1)
    return tokens, token_lengths, (mel + 5.0) / 5.0 * valid, mel_lengths  # roughly unit scale


def test_overfits_two_espeak_utterances_with_diagonal_attention():
    tokens, token_lengths, mel, mel_lengths = _espeak_batch()
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny", audio_config=AUDIO, reduction_factor=2, dropout=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses, scores = [], []
    for _ in range(100):
        out = model(tokens, token_lengths, mel, mel_lengths)
        terms = model.loss(out, mel, mel_lengths, token_lengths=token_lengths,
                           guided_attention_weight=1.0)  # fmt: skip
        optimizer.zero_grad()
        terms["loss"].backward()
        optimizer.step()
        losses.append(terms["loss"].item())
        scores.append(diagonality(out["alignments"].detach(), token_lengths, mel_lengths,
                                  reduction_factor=2))  # fmt: skip
    assert losses[-1] < 0.25 * losses[0], (losses[0], losses[-1])
    assert (scores[0] < 0.5).all(), scores[0]
    assert (scores[-1] > 0.8).all(), scores[-1]


def test_self_feeding_is_scheduled_sampling():
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny").double().eval()
    tokens, token_lengths, mel, mel_lengths = _batch()
    plain = model(tokens, token_lengths, mel, mel_lengths)["mel_before"]
    # a probability that never fires takes the per-step path: same values as all-at-once
    never = model(tokens, token_lengths, mel, mel_lengths, self_feeding=1e-12)["mel_before"]
    torch.testing.assert_close(never, plain, rtol=1e-12, atol=1e-12)
    # always: step n+1 sees step n's own output, i.e. free-running decoding = infer
    always = model(tokens, token_lengths, mel, mel_lengths, self_feeding=1.0)
    steps = 3
    free, _, free_alignments = model.infer(tokens, token_lengths, max_decoder_steps=steps,
                                           stop_threshold=0.999999)  # fmt: skip
    r = model.reduction_factor
    torch.testing.assert_close(always["alignments"][:, :steps], free_alignments[:, :steps],
                               rtol=1e-10, atol=1e-10)  # fmt: skip
    assert not torch.allclose(always["mel_before"], plain)
    model.train()
    out = model(tokens, token_lengths, mel.float().double(), mel_lengths, self_feeding=0.5)
    out["mel_after"].sum().backward()  # own frames are detached; gradients still flow
    assert model.prenet[0].weight.grad is not None
    assert free.shape[-1] == steps * r
    with pytest.raises(ParameterError, match="self_feeding"):
        model(tokens, token_lengths, mel, mel_lengths, self_feeding=1.5)


def test_attention_window_constrains_free_running_attention():
    torch.manual_seed(0)
    model = create_model("tacotron2_tiny").double().eval()
    tokens, token_lengths, _, _ = _batch()
    kwargs = {"max_decoder_steps": 6, "stop_threshold": 0.999999}
    free = model.infer(tokens, token_lengths, **kwargs)
    wide = model.infer(tokens, token_lengths, attention_window=(9, 9), **kwargs)
    for a, b in zip(free, wide):  # a window wider than the text changes nothing
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    _, _, narrow = model.infer(tokens, token_lengths, attention_window=(0, 1), **kwargs)
    previous = narrow[:, :-1].argmax(-1, keepdim=True)
    positions = torch.arange(narrow.shape[-1])
    outside = (positions < previous) | (positions > previous + 1)
    assert (narrow[:, 1:][outside] == 0).all()
    with pytest.raises(ParameterError, match="attention_window"):
        model.infer(tokens, token_lengths, attention_window=(-1, 2), **kwargs)
