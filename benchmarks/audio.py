"""Sound representations: synesthesia vs librosa on the same inputs, in one process.

Run:  python benchmarks/audio.py               (all: speed, first call, Griffin-Lim memory)
      python benchmarks/audio.py --quick       (fewer repeats)
      python benchmarks/audio.py --threads 1   (torch on one thread, like numpy's FFT)

Inputs (float32, deterministic): 60 s of audio at 22.05 kHz mono, and a batch of 16 x 4 s.
Settings: n_fft 1024, hop 256, hann, center + reflect padding, 80 mels up to 8 kHz
(slaney scale and norm), power 2 then power_to_db (top_db 80); Griffin-Lim 32 iterations,
momentum 0.99, zero initial phase on both sides (same arithmetic; random phases cost the same).

Speed: median wall time over repeats after one warm-up call; ratio = librosa / ours.
First call: time of the very first call in a fresh subprocess (imports done beforehand), which
includes window/filterbank construction, FFT plans and lazy library set-up.
Peak memory of Griffin-Lim: fresh subprocess per (implementation, input); imports done, the
magnitude loaded and a tiny warm-up run; then the kernel's peak-RSS counter is reset
(``/proc/self/clear_refs`` = 5) and the reported figure is ``VmHWM - VmRSS`` around the call,
i.e. the extra resident memory the algorithm needed (input excluded, output included). This
sees numpy, torch and FFT-library allocations alike, which tracemalloc would not.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _timing import median_time

SAMPLE_RATE = 22050
N_FFT, HOP, N_MELS, F_MAX = 1024, 256, 80, 8000.0
N_ITER, MOMENTUM = 32, 0.99


def make_inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)

    def sound(seconds: float, seed: int) -> np.ndarray:
        t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
        r = np.random.default_rng(seed)
        chirp = 0.3 * np.sin(2 * np.pi * (100 + 200 * t) * t)
        tone = sum(0.2 / k * np.sin(2 * np.pi * 220 * k * t) for k in range(1, 6))
        return (chirp + tone + 0.05 * r.standard_normal(t.shape)).astype(np.float32)

    del rng
    return {
        "60 s mono": sound(60.0, 1),
        "16 x 4 s": np.stack([sound(4.0, 10 + i) for i in range(16)]),
    }


# -- the operations -----------------------------------------------------------------------
def ours(op: str):
    import torch

    import synesthesia.functional as S

    def run(x):
        x = torch.from_numpy(x) if isinstance(x, np.ndarray) else x
        if op == "stft":
            return S.stft(
                x,
                n_fft=N_FFT,
                hop_length=HOP,
                win_length=N_FFT,
                window="hann",
                center=True,
                pad_mode="reflect",
            )
        if op == "log-mel":
            mel = S.mel_spectrogram(
                x,
                sample_rate=SAMPLE_RATE,
                n_fft=N_FFT,
                hop_length=HOP,
                win_length=N_FFT,
                window="hann",
                center=True,
                pad_mode="reflect",
                power=2.0,
                n_mels=N_MELS,
                f_min=0.0,
                f_max=F_MAX,
                mel_scale="slaney",
                norm="slaney",
            )
            return S.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
        if op == "griffin-lim":
            return S.griffin_lim(
                x,
                n_iter=N_ITER,
                momentum=MOMENTUM,
                init="zeros",
                n_fft=N_FFT,
                hop_length=HOP,
                win_length=N_FFT,
                window="hann",
                center=True,
                pad_mode="reflect",
            )
        raise KeyError(op)

    return run


def reference(op: str):
    import librosa

    def run(x):
        if op == "stft":
            return librosa.stft(
                x,
                n_fft=N_FFT,
                hop_length=HOP,
                win_length=N_FFT,
                window="hann",
                center=True,
                pad_mode="reflect",
            )
        if op == "log-mel":
            mel = librosa.feature.melspectrogram(
                y=x,
                sr=SAMPLE_RATE,
                n_fft=N_FFT,
                hop_length=HOP,
                win_length=N_FFT,
                window="hann",
                center=True,
                pad_mode="reflect",
                power=2.0,
                n_mels=N_MELS,
                fmin=0.0,
                fmax=F_MAX,
                htk=False,
                norm="slaney",
            )
            return librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=80.0)
        if op == "griffin-lim":
            return librosa.griffinlim(
                x,
                n_iter=N_ITER,
                hop_length=HOP,
                win_length=N_FFT,
                n_fft=N_FFT,
                window="hann",
                center=True,
                pad_mode="reflect",
                momentum=MOMENTUM,
                init=None,
            )
        raise KeyError(op)

    return run


def magnitude(x: np.ndarray) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(x, n_fft=N_FFT, hop_length=HOP, center=True, pad_mode="reflect"))


def op_input(op: str, x: np.ndarray) -> np.ndarray:
    return magnitude(x) if op == "griffin-lim" else x


# -- subprocess probes ---------------------------------------------------------------------
def _child(mode: str, impl: str, op: str, path: str) -> None:
    x = np.load(path)
    fn = ours(op) if impl == "ours" else reference(op)
    if impl == "ours":
        import torch

        arg = torch.from_numpy(x)
    else:
        arg = x
    if mode == "first":
        start = time.perf_counter()
        fn(arg)
        print(json.dumps({"seconds": time.perf_counter() - start}))
        return
    # memory: warm up on a tiny input so library set-up is not counted
    small = arg[..., :, :40] if op == "griffin-lim" else arg[..., : 40 * HOP]
    fn(small)
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    out = fn(arg)
    peak = _status("VmHWM")
    del out
    print(json.dumps({"extra_mib": (peak - before) / 1024}))


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])  # kB
    raise RuntimeError(field)


THREADS: int | None = None


def probe(mode: str, impl: str, op: str, x: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.npy"
        np.save(path, x)
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, impl, op, str(path)]
            + (["--threads", str(THREADS)] if THREADS else []),
            capture_output=True,
            text=True,
            check=True,
        )
    value = json.loads(out.stdout.strip().splitlines()[-1])
    return value["seconds"] if mode == "first" else value["extra_mib"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch intra-op threads (default: torch's)"
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.child:
        _child(*args.child)
        return

    import synesthesia  # noqa: F401

    global THREADS
    THREADS = args.threads
    repeats = 5 if args.quick else 15
    inputs = make_inputs()
    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}; "
        f"librosa {__import__('librosa').__version__}; repeats {repeats}"
    )
    print(f"{'op':12s} {'input':10s} {'librosa ms':>11s} {'ours ms':>9s} {'speed-up':>9s}")
    for op in ("stft", "log-mel", "griffin-lim"):
        for name, x in inputs.items():
            arg = op_input(op, x)
            reps = max(3, repeats // 3) if op == "griffin-lim" else repeats
            f_ref, f_our, tensor = reference(op), ours(op), torch.from_numpy(arg)
            ref = median_time(lambda: f_ref(arg), reps)  # noqa: B023 (called right here)
            our = median_time(lambda: f_our(tensor), reps)  # noqa: B023
            print(f"{op:12s} {name:10s} {ref * 1e3:11.1f} {our * 1e3:9.1f} {ref / our:8.2f}x")
    print("\nfirst call in a fresh process (60 s mono), seconds")
    for op in ("stft", "log-mel", "griffin-lim"):
        arg = op_input(op, inputs["60 s mono"])
        ref = probe("first", "librosa", op, arg)
        our = probe("first", "ours", op, arg)
        print(f"{op:12s} librosa {ref:7.3f}  ours {our:7.3f}")
    print("\nGriffin-Lim peak extra memory (MiB, fresh process each)")
    for name, x in inputs.items():
        arg = op_input("griffin-lim", x)
        ref = probe("memory", "librosa", "griffin-lim", arg)
        our = probe("memory", "ours", "griffin-lim", arg)
        print(f"{name:10s} librosa {ref:7.1f}  ours {our:7.1f}  ratio {our / ref:5.2f}")


if __name__ == "__main__":
    main()
