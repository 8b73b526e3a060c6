"""Attention and GPT decoding: synesthesia vs the reference, same inputs, one process.

Run:  python benchmarks/attention.py            (all)
      python benchmarks/attention.py --quick    (fewer repeats)

1. Multi-head self-attention, forward + backward: ``synesthesia.nn.MultiHeadAttention`` vs
   ``torch.nn.MultiheadAttention(batch_first=True)`` with the same weights; B 8, L 256, D 512,
   8 heads, float32, training mode (dropout 0). Both with ``need_weights=False`` (fused SDPA on
   both sides) and both with ``need_weights=True`` (weights materialised and averaged).
   Target: ours ≤ 1.15 × torch's time.
2. GPT generation of 256 new tokens after an 8-token prompt, greedy, batch 1:
   ``generate(use_cache=True)`` (KV cache, one token per step) vs ``use_cache=False`` (the
   whole context recomputed each step), same model and weights. Target: cached ≥ 5× faster.
   The two outputs are checked to be identical.

Timing: median wall time (and process CPU time, less sensitive to other jobs on a shared
machine) over repeats after one warm-up call, ours and the reference run alternately;
ratio = ours / reference for (1) and uncached / cached for (2).
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import torch
from torch import nn

from synesthesia.models import create_model
from synesthesia.nn import MultiHeadAttention


def _median_times(first, second, repeats: int) -> tuple[float, float, float, float]:
    """Median wall and CPU (process) times of two callables, run alternately after one
    warm-up call each, so that load changes on a shared machine hit both alike.

    Returns:
        (wall first, wall second, cpu first, cpu second) in seconds.
    """
    first(), second()  # warm-up
    wall: tuple[list[float], list[float]] = ([], [])
    cpu: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for index, fn in enumerate((first, second)):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[index].append(time.perf_counter() - start)
            cpu[index].append(time.process_time() - start_cpu)
    return (*(statistics.median(w) for w in wall), *(statistics.median(c) for c in cpu))


def _pair(embed_dim: int, num_heads: int) -> tuple[MultiHeadAttention, nn.MultiheadAttention]:
    torch.manual_seed(0)
    ours = MultiHeadAttention(embed_dim, num_heads)
    ref = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
    with torch.no_grad():
        ref.in_proj_weight.copy_(
            torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        )
        ref.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        ref.out_proj.load_state_dict(ours.out_proj.state_dict())
    return ours.train(), ref.train()


def bench_attention(repeats: int) -> None:
    batch, length, embed_dim, num_heads = 8, 256, 512, 8
    ours, ref = _pair(embed_dim, num_heads)
    x = torch.randn(batch, length, embed_dim, generator=torch.Generator().manual_seed(1))
    x.requires_grad_(True)
    print(
        f"MultiHeadAttention forward+backward, B={batch} L={length} D={embed_dim} "
        f"H={num_heads}, float32, {torch.get_num_threads()} threads"
    )
    for need_weights in (False, True):
        with torch.no_grad():
            a = ours(x, need_weights=need_weights)[0]
            b = ref(x, x, x, need_weights=need_weights)[0]
        max_diff = (a - b).abs().max().item()

        def run_ours(need_weights=need_weights):
            out, _ = ours(x, need_weights=need_weights)
            out.sum().backward()

        def run_ref(need_weights=need_weights):
            out, _ = ref(x, x, x, need_weights=need_weights)
            out.sum().backward()

        t_ours, t_ref, cpu_ours, cpu_ref = _median_times(run_ours, run_ref, repeats)
        print(
            f"  need_weights={need_weights!s:5}: ours {t_ours * 1e3:7.1f} ms   "
            f"torch.nn.MultiheadAttention {t_ref * 1e3:7.1f} ms   ratio ours/torch "
            f"{t_ours / t_ref:5.2f}   CPU-time ratio {cpu_ours / cpu_ref:5.2f}   "
            f"(max |diff| {max_diff:.1e})"
        )


def bench_generation(repeats: int) -> None:
    new_tokens, prompt_length = 256, 8
    for preset in ("gpt_tiny", "gpt_small"):
        torch.manual_seed(0)
        model = create_model(preset, max_seq_len=512).eval()
        prompt = torch.randint(0, model.vocab_size, (1, prompt_length))
        kwargs = dict(max_new_tokens=new_tokens, temperature=0.0)
        cached = model.generate(prompt, use_cache=True, **kwargs)
        plain = model.generate(prompt, use_cache=False, **kwargs)
        same = torch.equal(cached, plain)
        t_cached, t_plain, cpu_cached, cpu_plain = _median_times(
            partial(model.generate, prompt, use_cache=True, **kwargs),
            partial(model.generate, prompt, use_cache=False, **kwargs),
            repeats,
        )
        print(
            f"GPT {preset} ({model.num_parameters / 1e6:.2f} M params) generate {new_tokens} "
            f"tokens: cached {t_cached:6.2f} s ({new_tokens / t_cached:6.0f} tok/s)   uncached "
            f"{t_plain:6.2f} s   speed-up {t_plain / t_cached:5.1f}x (CPU time "
            f"{cpu_plain / cpu_cached:5.1f}x)   identical tokens: {same}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    parser.add_argument(
        "--only", choices=["attention", "generation"], default=None, help="run one part only"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}")
    if args.only in (None, "attention"):
        bench_attention(repeats=3 if args.quick else 10)
    if args.only in (None, "generation"):
        bench_generation(repeats=1 if args.quick else 3)


if __name__ == "__main__":
    main()
