"""GPT: shapes, cached == full decoding, generation, save/load, errors."""

import pytest
import torch

from synesthesia.errors import ParameterError
from synesthesia.models import GPT, create_model, load_pretrained

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(**kw):
    torch.manual_seed(0)
    defaults = dict(vocab_size=40, max_seq_len=256, embed_dim=32, num_layers=2, num_heads=4)
    return GPT(**{**defaults, **kw}).double().eval()


def test_create_model_with_vocab_override_and_shapes():
    model = create_model("gpt_tiny", vocab_size=37)
    assert isinstance(model, GPT) and model.vocab_size == 37 and model.max_seq_len >= 256
    logits = model(torch.randint(0, 37, (3, 11)))
    assert logits.shape == (3, 11, 37)
    assert model.lm_head.weight is model.token_embedding.weight  # tied


def test_cached_decoding_equals_full_recomputation_at_every_step_of_256_tokens():
    model = _model()
    ids = torch.randint(0, 40, (2, 256), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = model(ids)  # (B, 256, V)
        cache = model.new_cache(2)
        # a prompt of 7 tokens at once, then one token per step
        steps = [model(ids[:, :7], cache=cache)]
        steps += [model(ids[:, i : i + 1], cache=cache) for i in range(7, 256)]
    cached = torch.cat(steps, dim=1)
    assert cache.length == 256
    torch.testing.assert_close(cached, full, rtol=0, atol=1e-10)


def test_causality_future_tokens_do_not_change_past_logits():
    model = _model()
    ids = torch.randint(0, 40, (1, 20))
    changed = ids.clone()
    changed[0, 10:] = (changed[0, 10:] + 1) % 40
    with torch.no_grad():
        torch.testing.assert_close(model(ids)[:, :10], model(changed)[:, :10], rtol=0, atol=0)


@pytest.mark.parametrize("temperature, top_k", [(0.0, None), (1.0, 5), (0.7, None)])
def test_generate_cached_equals_uncached(temperature, top_k):
    model = _model(max_seq_len=24)  # 10 + 30 tokens > max_seq_len: the crop path is used too
    prompt = torch.randint(0, 40, (3, 10), generator=torch.Generator().manual_seed(2))
    kwargs = dict(max_new_tokens=30, temperature=temperature, top_k=top_k)
    cached = model.generate(
        prompt, use_cache=True, generator=torch.Generator().manual_seed(3), **kwargs
    )
    plain = model.generate(
        prompt, use_cache=False, generator=torch.Generator().manual_seed(3), **kwargs
    )
    assert cached.shape == (3, 40)
    assert torch.equal(cached[:, :10], prompt)
    assert torch.equal(cached, plain)


def test_generate_top_k_1_is_greedy_and_restores_training_mode():
    model = _model(dropout=0.1).train()
    prompt = torch.randint(0, 40, (2, 4))
    greedy = model.generate(prompt, max_new_tokens=6, temperature=0)
    top1 = model.generate(prompt, max_new_tokens=6, temperature=1.0, top_k=1)
    assert torch.equal(greedy, top1)
    assert model.training
    assert torch.equal(model.generate(prompt, max_new_tokens=0), prompt)


def test_save_and_load_round_trip_gives_identical_logits(tmp_path):
    model = create_model("gpt_tiny", vocab_size=30, dropout=0.0).eval()
    model.save_pretrained(tmp_path / "gpt")
    loaded = load_pretrained(tmp_path / "gpt")
    assert isinstance(loaded, GPT) and loaded.get_config() == model.get_config()
    assert loaded.lm_head.weight.data_ptr() == loaded.token_embedding.weight.data_ptr()
    ids = torch.randint(0, 30, (2, 9))
    with torch.no_grad():
        torch.testing.assert_close(loaded(ids), model(ids), rtol=0, atol=0)


def test_mlp_ratio_sets_ff_dim_and_untied_weights():
    model = GPT(
        vocab_size=10, embed_dim=16, num_heads=2, num_layers=1, mlp_ratio=2.0, tie_weights=False
    )
    assert model.ff_dim == 32
    assert model.lm_head.weight is not model.token_embedding.weight


def test_bad_arguments_raise_parameter_error():
    with pytest.raises(ParameterError, match="embed_dim=30 must be divisible by num_heads=4"):
        GPT(vocab_size=10, embed_dim=30, num_heads=4)
    with pytest.raises(ParameterError, match="vocab_size=0"):
        GPT(vocab_size=0)
    model = _model(max_seq_len=16)
    with pytest.raises(ParameterError, match="input_ids values"):
        model(torch.tensor([[0, 40]]))
    with pytest.raises(ParameterError, match="empty sequence"):
        model(torch.zeros(1, 0, dtype=torch.long))
    with pytest.raises(ParameterError, match="input_ids dtype"):
        model(torch.zeros(1, 3))
    with pytest.raises(ParameterError, match="max_seq_len=16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ParameterError, match="max_length=17"):
        model.new_cache(1, max_length=17)
    with pytest.raises(ParameterError, match="temperature=-1"):
        model.generate(torch.zeros(1, 2, dtype=torch.long), max_new_tokens=1, temperature=-1)
    for bad in (float("inf"), float("nan"), True):
        with pytest.raises(ParameterError, match="must be a finite number"):
            model.generate(torch.zeros(1, 2, dtype=torch.long), max_new_tokens=1, temperature=bad)
    with pytest.raises(ParameterError, match="top_k=0"):
        model.generate(torch.zeros(1, 2, dtype=torch.long), max_new_tokens=1, top_k=0)
    with pytest.warns(UserWarning, match="top_k=40 >= vocab_size=40"):
        model.generate(torch.zeros(1, 2, dtype=torch.long), max_new_tokens=1, top_k=40)
    with pytest.raises(ParameterError, match="max_new_tokens=-1"):
        model.generate(torch.zeros(1, 2, dtype=torch.long), max_new_tokens=-1)


def test_loss_falls_and_greedy_generation_continues_a_learned_pattern():
    torch.manual_seed(0)
    model = GPT(vocab_size=12, max_seq_len=32, embed_dim=32, num_layers=2, num_heads=4)
    pattern = torch.tensor([[3, 1, 4, 1, 5, 9, 2, 6] * 4])  # (1, 32)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        logits = model(pattern[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 12), pattern[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0], losses[::10]
    continued = model.generate(pattern[:, :8], max_new_tokens=16, temperature=0)
    assert torch.equal(continued, pattern[:, :24])


def test_batched_generation_equals_per_item():
    model = _model()
    prompts = torch.randint(0, 40, (3, 5), generator=torch.Generator().manual_seed(4))
    batched = model.generate(prompts, max_new_tokens=12, temperature=0)
    for b in range(3):
        single = model.generate(prompts[b : b + 1], max_new_tokens=12, temperature=0)
        assert torch.equal(batched[b : b + 1], single)
