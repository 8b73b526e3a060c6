"""Every registered ``*_tiny`` preset: shapes, no NaN, every parameter gets a gradient,
generate()/infer() runs, save/load round trip.

The model contract (docs/architecture.md, "Model contract"): each model class provides
``example_inputs(batch_size)`` → keyword arguments of ``forward`` (batch-first tensors), and
optionally ``example_generate_inputs(batch_size)`` → keyword arguments of ``generate()`` (or
``infer()``); without it, the entries of ``example_inputs`` that the method accepts are used.
"""

from __future__ import annotations

import inspect

import pytest
import torch

from synesthesia.models import PretrainedModel, create_model, list_models, load_pretrained

TINY = list_models("*_tiny")
BATCH = 2


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _build(name: str) -> PretrainedModel:
    torch.manual_seed(0)
    model = create_model(name)
    assert isinstance(model, PretrainedModel), f"{name} is not a PretrainedModel"
    assert hasattr(model, "example_inputs"), (
        f"preset {name}: {type(model).__name__} lacks example_inputs(batch_size) — see the "
        "model contract in docs/architecture.md"
    )
    return model


def test_gpt_tiny_is_registered():
    assert "gpt_tiny" in TINY


@pytest.mark.parametrize("name", TINY)
def test_tiny_forward_backward_every_parameter_gets_a_gradient(name, output_tensors):
    model = _build(name).train()
    inputs = model.example_inputs(BATCH)
    outputs = output_tensors(model(**inputs))
    assert outputs, f"{name}: forward returned no tensor"
    floating = [t for t in outputs if t.is_floating_point()]
    assert floating, f"{name}: forward returned no floating tensor"
    for t in outputs:
        assert t.ndim >= 1 and t.shape[0] == BATCH, (
            f"{name}: output {tuple(t.shape)} not batch-first"
        )
        if t.is_floating_point():
            assert torch.isfinite(t).all(), f"{name}: non-finite output"
    loss = sum(t.square().mean() for t in floating)
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    assert not missing, f"{name}: parameters without gradient: {missing[:10]}"
    bad = [
        n
        for n, p in model.named_parameters()
        if p.grad is not None and not torch.isfinite(p.grad).all()
    ]
    assert not bad, f"{name}: non-finite gradients: {bad[:10]}"


@pytest.mark.parametrize("name", TINY)
def test_tiny_generate_or_infer_runs(name, output_tensors):
    model = _build(name).eval()
    method_name = "generate" if hasattr(model, "generate") else "infer"
    method = getattr(model, method_name, None)
    assert method is not None, f"{name}: no generate() or infer()"
    if hasattr(model, "example_generate_inputs"):
        kwargs = model.example_generate_inputs(BATCH)
    else:
        accepted = inspect.signature(method).parameters
        kwargs = {k: v for k, v in model.example_inputs(BATCH).items() if k in accepted}
    outputs = output_tensors(method(**kwargs))
    assert outputs, f"{name}: {method_name}() returned no tensor"
    for t in outputs:
        assert t.ndim >= 1 and t.shape[0] == BATCH, f"{name}: {method_name} output {tuple(t.shape)}"
        assert not t.requires_grad, f"{name}: {method_name}() must run under no_grad"
        if t.is_floating_point():
            assert torch.isfinite(t).all(), f"{name}: non-finite {method_name}() output"


@pytest.mark.parametrize("name", TINY)
def test_tiny_save_and_load_round_trip(name, output_tensors, tmp_path):
    model = _build(name).eval()
    model.save_pretrained(tmp_path / name)
    loaded = load_pretrained(tmp_path / name)
    assert type(loaded) is type(model)
    inputs = model.example_inputs(BATCH)
    with torch.no_grad():
        pairs = zip(output_tensors(model(**inputs)), output_tensors(loaded(**inputs)), strict=True)
        for a, b in pairs:
            torch.testing.assert_close(a, b, rtol=0, atol=0)
