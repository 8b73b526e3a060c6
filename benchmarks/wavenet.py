"""WaveNet generation speed: torch streaming path vs the compiled numba kernel.

Configurations (docs/benchmarks.md, "## WaveNet"):
  (a) ``wavenet_mulaw_16x2``: 16 layers in 2 stacks, 64 residual / 128 gate / 64 skip
      channels, 8-bit mu-law softmax, 80-mel conditioning at 22.05 kHz;
  (b) ``wavenet_mol_24x4``: 24 layers in 4 stacks, 128 / 256 / 128 channels, mixture of
      10 logistics.
Both use kernel_size=3 (r9y9/wavenet_vocoder's default; ``--kernel-size 2`` for the original
WaveNet's). Random weights: speed does not depend on training.

For each: samples generated per second (wall clock, median of repeats) at batch 1 with 1 and 2
threads and at batch 8 with 2 threads, for the torch backend and the numba kernel with float32
weights and with half-precision weight matrices (``weight_dtype=torch.float16``: products and
sums stay float32), and their ratios; the reference r9y9/wavenet_vocoder figures measured on
this machine kind with 1 thread (brief: (a) 310, (b) 164 samples/s); and the
multiply-accumulates per sample against the measured batch-1 mat-vec rate of the same kernel
with the same weights (the compute floor).

Run:  python benchmarks/wavenet.py            (about 5 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from synesthesia.models import create_model
from synesthesia.models.wavenet import numba_backend as wavenet_numba

R9Y9 = {"wavenet_mulaw_16x2": 310.0, "wavenet_mol_24x4": 164.0}
TARGET = {"wavenet_mulaw_16x2": 22050.0, "wavenet_mol_24x4": 3300.0}
LABEL = {
    "wavenet_mulaw_16x2": "(a) 16x2 mu-law 64/128/64",
    "wavenet_mol_24x4": "(b) 24x4 MoL 128/256/128",
}


def _rate(
    model, *, batch: int, frames: int, backend: str, repeats: int, weight_dtype=None
) -> tuple[float, float]:
    """Median samples/s per utterance (wall) and samples per CPU-second."""
    torch.manual_seed(0)
    mel = torch.randn(batch, model.cond_channels, frames) - 4.0
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        wave, _ = model.generate(mel, progress=False, backend=backend, weight_dtype=weight_dtype)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    samples = wave.shape[1]
    return samples / statistics.median(walls), samples / statistics.median(cpus)


def _matvec_rate(model, weight_dtype=None, seconds: float = 2.0) -> float:
    """GMAC/s of the kernel's own mat-vec routine over this model's weight matrices (batch 1).

    The weights are visited in the order generation visits them, with the same prefetching,
    so caches behave as in the real loop; what is excluded is everything else (gate, ring
    buffers, sampling).
    """
    from synesthesia.models.wavenet.numba_kernel import matvec_add

    w = wavenet_numba.export_weights(model, weight_dtype)
    ahead = wavenet_numba.prefetch_distance(w)
    mats = [m for layer in range(len(w["conv_w"])) for m in (w["conv_w"][layer], w["out_w"][layer])]
    mats += [w["hidden_w"], w["proj_w"]]
    dtype = w["out_b"].dtype
    vecs = [np.random.default_rng(0).standard_normal(m.shape[1]).astype(dtype) for m in mats]
    outs = [np.zeros(m.shape[0], dtype) for m in mats]
    macs = sum(m.size for m in mats)
    for m, v, o in zip(mats, vecs, outs):
        matvec_add(m, v, o, ahead)  # compile
    count, start = 0, time.process_time()  # CPU time: robust to other processes' load
    while time.process_time() - start < seconds:
        for m, v, o in zip(mats, vecs, outs):
            matvec_add(m, v, o, ahead)
        count += 1
    return macs * count / (time.process_time() - start) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel-size", type=int, default=3, help="dilated conv taps (2 or 3)")
    parser.add_argument("--torch-frames", type=int, default=3, help="mel frames for torch runs")
    parser.add_argument("--numba-frames", type=int, default=86, help="mel frames for numba runs")
    parser.add_argument("--repeats", type=int, default=3, help="repeats of each numba run")
    parser.add_argument(
        "--configs", nargs="+", default=list(R9Y9), choices=list(R9Y9), help="presets to run"
    )
    parser.add_argument(
        "--batch1-only", action="store_true", help="only batch 1 with 1 thread (quick)"
    )
    args = parser.parse_args()
    if not wavenet_numba.numba_available():
        raise SystemExit("numba is not installed")
    print(f"torch {torch.__version__}, kernel_size={args.kernel_size}, wall-clock medians")
    half = torch.float16
    for name in args.configs:
        model = create_model(name, kernel_size=args.kernel_size).eval()
        probe = torch.zeros(1, 80, 1) - 4
        for weight_dtype in (None, half):  # compile both kernels
            model.generate(probe, progress=False, backend="numba", weight_dtype=weight_dtype)
        macs = model.macs_per_sample()
        print(
            f"\n{LABEL[name]}: {macs / 1e6:.3f} M MACs/sample, receptive field "
            f"{model.receptive_field} samples, {model.num_parameters / 1e6:.2f} M parameters"
        )
        print("samples/s per utterance (wall); batch 8 also as total throughput")
        print(
            f"{'setting':<20}{'torch':>8}{'numba':>9}{'numba16':>9}{'ratio':>7}{'ratio16':>8}"
            f"{'x r9y9':>8}{'16 x r9y9':>10}"
        )
        batch1 = {}
        settings = ((1, 1),) if args.batch1_only else ((1, 1), (1, 2), (8, 2))
        for batch, threads in settings:
            torch.set_num_threads(threads)
            ref, _ = _rate(model, batch=batch, frames=args.torch_frames, backend="torch", repeats=1)
            fast = {}
            for weight_dtype in (None, half):
                fast[weight_dtype] = _rate(
                    model,
                    batch=batch,
                    frames=args.numba_frames,
                    backend="numba",
                    repeats=args.repeats,
                    weight_dtype=weight_dtype,
                )
            if batch == 1 and threads == 1:
                batch1 = fast
            f32, f16 = fast[None][0], fast[half][0]
            print(
                f"{f'batch {batch}, {threads} thr':<20}{ref:>8.0f}{f32:>9.0f}{f16:>9.0f}"
                f"{f32 / ref:>7.1f}{f16 / ref:>8.1f}{f32 / R9Y9[name]:>8.1f}"
                f"{f16 / R9Y9[name]:>10.1f}"
                + (f"   total {batch * ref:.0f} / {batch * f32:.0f} / {batch * f16:.0f}"
                   if batch > 1 else "")
            )  # fmt: skip
        torch.set_num_threads(1)
        for weight_dtype, what in ((None, "float32"), (half, "float16")):
            rate = _matvec_rate(model, weight_dtype)
            floor = rate * 1e9 / macs
            wall, cpu = batch1[weight_dtype]
            print(
                f"{what} weights: batch-1 mat-vec rate {rate:.1f} GMAC/s per CPU-second -> "
                f"compute floor {floor:.0f} samples/s; numba batch 1, 1 thread: {wall:.0f} "
                f"wall, {cpu:.0f} per CPU-second ({cpu / floor:.0%} of the floor); target "
                f"{TARGET[name]:.0f} ({cpu / TARGET[name]:.0%}), r9y9 {R9Y9[name]:.0f} samples/s"
            )


if __name__ == "__main__":
    main()
