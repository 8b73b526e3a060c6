"""Training machinery overhead: ``synesthesia.training.fit`` vs a plain PyTorch loop.

Run:  python benchmarks/training.py            (all)
      python benchmarks/training.py --quick    (fewer steps and repeats)

Both train the same ``gpt_tiny`` (char vocabulary of 40, block 64, batch 32) from the same
initial weights on the same random windows with the same AdamW + warmup/cosine schedule and
gradient clipping; ``fit`` adds Lightning, per-step logging to CSV and TensorBoard, and a
``last.ckpt`` at the end (validation off, no export). The per-step cost is
``(time(N2 steps) - time(N1 steps)) / (N2 - N1)``, which removes start-up costs (Trainer
construction, logger set-up) from the comparison; start-up is reported separately.
Target: ``fit`` per-step time ≤ 1.3 × the plain loop's at this tiny size (the overhead is
fixed per step, so it shrinks relative to larger models).

Timing: medians over repeats of wall time and of process CPU time (all threads; less
sensitive to other jobs on a shared machine), one intra-op thread.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
import warnings

import torch

from synesthesia.models import create_model
from synesthesia.training import build_optimizer, load_config
from synesthesia.training.data import RandomBatchStream
from synesthesia.training.lm import LMSystem, WindowSampler

VOCAB, BLOCK, BATCH = 40, 64, 32


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) since ``start``."""
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _tokens() -> torch.Tensor:
    return torch.randint(0, VOCAB, (20_000,), generator=torch.Generator().manual_seed(0))


def plain_loop(steps: int) -> float:
    torch.manual_seed(0)
    model = create_model("gpt_tiny", vocab_size=VOCAB, max_seq_len=BLOCK).train()
    optimizer, scheduler = build_optimizer(
        model, lr=3e-3, weight_decay=0.01, betas=(0.9, 0.95), eps=1e-8, warmup_steps=50,
        total_steps=steps, scheduler="cosine", min_lr_ratio=0.1,
    )  # fmt: skip
    stream = iter(RandomBatchStream(WindowSampler(_tokens(), block_size=BLOCK, batch_size=BATCH),
                                    seed=0))  # fmt: skip
    start = _clock()
    for _ in range(steps):
        x, y = next(stream)
        loss = torch.nn.functional.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
    return _since(start)


def ours(steps: int) -> float:
    import lightning as L
    from torch.utils.data import DataLoader

    from synesthesia.training import fit

    class _Data(L.LightningDataModule):
        def train_dataloader(self):
            sampler = WindowSampler(_tokens(), block_size=BLOCK, batch_size=BATCH)
            stream = RandomBatchStream(sampler, seed=0)
            return DataLoader(stream, batch_size=None, generator=torch.Generator())

    with tempfile.TemporaryDirectory() as out:
        config = load_config(
            None,
            [
                f"out_dir={out}",
                "model.name=gpt_tiny",
                f"model.kwargs={{vocab_size: {VOCAB}, max_seq_len: {BLOCK}}}",
                "optim.lr=3e-3",
                "optim.warmup_steps=50",
                f"trainer.max_steps={steps}",
                "trainer.accelerator=cpu",
                "trainer.progress_bar=false",
                "trainer.num_sanity_val_steps=0",
                "checkpoint.monitor=null",
            ],
        )
        torch.manual_seed(0)
        system = LMSystem(model_name="gpt_tiny", model_kwargs=config["model"]["kwargs"],
                          optim=config["optim"])  # fmt: skip
        start = _clock()
        fit(system, _Data(), config, export=False)
        return _since(start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps and repeats")
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.disable(logging.WARNING)
    warnings.filterwarnings("ignore")
    n1, n2, repeats = (20, 120, 3) if args.quick else (50, 350, 5)
    rows = {}
    for name, fn in (("plain PyTorch loop", plain_loop), ("synesthesia fit()", ours)):
        fn(n1)  # warm-up (imports, first-call costs)
        short = [fn(n1) for _ in range(repeats)]
        long = [fn(n2) for _ in range(repeats)]
        rows[name] = []
        for k in (0, 1):  # wall, CPU
            a = statistics.median(t[k] for t in short)
            b = statistics.median(t[k] for t in long)
            per_step = (b - a) / (n2 - n1)
            rows[name] += [per_step, a - n1 * per_step]
    print(f"gpt_tiny, B={BATCH}, L={BLOCK}, V={VOCAB}; steps {n1} vs {n2}; median of {repeats}")
    print(
        f"{'':22s} {'wall ms/step':>13s} {'start-up s':>11s} "
        f"{'CPU ms/step':>12s} {'start-up s':>11s}"
    )
    for name, (wall, wall0, cpu, cpu0) in rows.items():
        print(f"{name:22s} {wall * 1e3:13.2f} {wall0:11.2f} {cpu * 1e3:12.2f} {cpu0:11.2f}")
    ours_row, plain_row = rows["synesthesia fit()"], rows["plain PyTorch loop"]
    print(
        f"fit() / plain per-step ratio: wall {ours_row[0] / plain_row[0]:.2f}, "
        f"CPU {ours_row[2] / plain_row[2]:.2f} (target <= 1.3)"
    )


if __name__ == "__main__":
    main()
