"""Bad-input corpus: every ``synesthesia`` command against a table of bad inputs, as subprocesses.

Run:  python benchmarks/bad_inputs.py                      (all cases, a table on stdout)
      python benchmarks/bad_inputs.py --markdown table.md  (also write the table as Markdown)
      python benchmarks/bad_inputs.py --only speak,audio   (commands whose name starts so)
      python benchmarks/bad_inputs.py --jobs 4 --keep DIR  (parallel runs; keep the files)

Each case runs ``synesthesia ARGS`` as its own process in its own folder: by default a child
forked from a parent that has imported torch and ``synesthesia.cli`` once (a 2-core machine
spends most of a bad-input run importing torch otherwise); ``--fresh`` starts every case as
``python -m synesthesia ARGS`` instead. "Without lightning" cases make ``import lightning``
fail as if the train extra were missing (a meta-path hook in the child). Inputs are tiny
and made once at start (WAVs of every kind, images, text, YAML, a tiny speech corpus, tiny
untrained GPT and WaveNet folders, copies of the shipped models with damaged weights). Every
case lists what counts as right: a clean error, a documented success (and which files it
writes) or a success with a warning. Its outcome is exactly one of:

clean error          exit 2, exactly one stderr line starting ``synesthesia: error:`` (other
                     lines only ``synesthesia: warning:``), no traceback, nothing left behind
documented success   exit 0, the case's outputs written (and a warning where one is due)
traceback            a Python traceback on stderr, whatever the exit code
lost file            a file that existed before changed or vanished, or a failed run left a
                     (partial) output file behind
wrong silent success exit 0 where the case expects an error (or a warning and none came)
other                anything else: a multi-line or argparse usage error, a refusal of a
                     documented success, another exit code, a time-out (listed with details)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from _timing import markdown_table

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch: forked children stay safe
os.environ.setdefault("MKL_NUM_THREADS", "1")

ERROR, SUCCESS, WARN = "error", "success", "warn"
OUTCOMES = (
    "clean error",
    "documented success",
    "traceback",
    "lost file",
    "wrong silent success",
    "other",
)
ROOT = Path(__file__).resolve().parents[1]
PRETRAINED = ROOT / "src" / "synesthesia" / "pretrained"
ASSETS = ROOT / "src" / "synesthesia" / "assets"

_NO_LIGHTNING = """\
import importlib.abc, sys
class _NoLightning(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("lightning", "lightning_fabric", "pytorch_lightning"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _NoLightning())
from synesthesia.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


@dataclass
class Case:
    """One command line and what counts as the right outcome.

    ``{fx}`` in an argument is the shared fixture folder, ``{case}`` the case's own folder.
    ``setup`` maps a file in the case folder to a fixture to copy there first (``"text:..."``
    writes that text, ``"dir"`` makes a folder); ``guard`` names the files of the case folder
    that must be unchanged afterwards; ``outputs`` the files a success writes.
    """

    command: str
    tried: str
    argv: list[str]
    expect: tuple[str, ...]
    outputs: tuple[str, ...] = ()
    setup: dict[str, str] = field(default_factory=dict)
    guard: tuple[str, ...] = ()
    stdin: bytes | None = None
    no_lightning: bool = False
    timeout: float = 300.0


@dataclass
class Result:
    case: Case
    outcome: str
    returncode: int | None
    reason: str
    stderr_tail: str
    seconds: float


# -- fixtures ------------------------------------------------------------------------------
def _write_wavs(fx: Path) -> None:
    import numpy as np
    import soundfile as sf

    speech, rate = sf.read(ASSETS / "speech.wav", dtype="float32")
    speech16 = speech[::2][:16000]  # about 16 kHz, 1 s (crude, fine for error tests)
    sf.write(fx / "ok.wav", speech16, 16000, subtype="PCM_16")
    sf.write(fx / "ok22k.wav", speech, rate, subtype="PCM_16")
    sf.write(fx / "rate8k.wav", speech[::3][:8000], 8000, subtype="PCM_16")
    sf.write(fx / "rate48k.wav", np.repeat(speech16, 3), 48000, subtype="PCM_16")
    sf.write(fx / "stereo.wav", np.stack([speech16, speech16[::-1]], 1), 16000)
    sf.write(fx / "u8.wav", speech16, 16000, subtype="PCM_U8")
    sf.write(fx / "float.wav", speech16, 16000, subtype="FLOAT")
    sf.write(fx / "silence.wav", np.zeros(16000, dtype="float32"), 16000, subtype="PCM_16")
    nan = speech16.copy()
    nan[100:200] = np.nan
    sf.write(fx / "nan.wav", nan, 16000, subtype="FLOAT")
    sf.write(fx / "tiny.wav", speech16[:10], 16000, subtype="PCM_16")
    loud = speech16 * 1e4
    sf.write(fx / "loud_float.wav", loud, 16000, subtype="FLOAT")
    whole = (fx / "ok.wav").read_bytes()
    (fx / "truncated.wav").write_bytes(whole[: len(whole) // 2])  # header says twice as long
    (fx / "header_only.wav").write_bytes(whole[:44])
    (fx / "empty.wav").write_bytes(b"")
    (fx / "text.wav").write_text("this is not audio\n")
    (fx / "png.wav").write_bytes((ASSETS / "digit_strip_example.png").read_bytes())
    (fx / "ok.flac").write_bytes(b"")  # replaced below
    sf.write(fx / "ok.flac", speech16, 16000, format="FLAC")
    sf.write(fx / "ok.ogg", speech16, 16000, format="OGG", subtype="VORBIS")


def _write_images(fx: Path) -> None:
    from PIL import Image

    png = (ASSETS / "digit_strip_example.png").read_bytes()
    (fx / "ok.png").write_bytes(png)
    (fx / "digit.png").write_bytes((ASSETS / "embed_digits" / "gallery" / "seven.png").read_bytes())
    (fx / "empty.png").write_bytes(b"")
    (fx / "text.png").write_text("this is not an image\n")
    (fx / "wav.png").write_bytes((fx / "ok.wav").read_bytes())
    (fx / "truncated.png").write_bytes(png[: len(png) // 2])
    Image.new("L", (1, 1), 255).save(fx / "one_pixel.png")
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(fx / "rgba.png")
    Image.new("RGB", (4000, 3), (255, 255, 255)).save(fx / "sliver.png")
    for name in ("gallery_ok", "gallery_empty", "gallery_junk", "audios_ok", "audios_junk"):
        (fx / name).mkdir()
    for path in sorted((ASSETS / "embed_digits" / "gallery").glob("*.png"))[:4]:
        shutil.copy(path, fx / "gallery_ok" / path.name)
    (fx / "gallery_junk" / "broken.png").write_bytes(png[:100])
    (fx / "gallery_junk" / "notes.txt").write_text("hello")
    shutil.copy(fx / "ok.wav", fx / "audios_ok" / "a.wav")
    shutil.copy(fx / "ok22k.wav", fx / "audios_ok" / "b.wav")
    (fx / "audios_junk" / "broken.wav").write_bytes(b"RIFF\x00\x00")
    (fx / "audios_junk" / "notes.txt").write_text("hello")


def _write_texts(fx: Path) -> None:
    import random

    r = random.Random(0)
    words = ["the cat", "a dog", "sees", "likes", "the ball", "a fish", "the old man"]
    sentences = [f"{r.choice(words)} {r.choice(words)}." for _ in range(300)]
    (fx / "text.txt").write_text(" ".join(sentences))
    (fx / "empty.txt").write_text("")
    (fx / "latin1.txt").write_bytes("caf\xe9 na\xefve \xff\xfe".encode("latin-1") * 50)
    (fx / "short.txt").write_text("hi")
    (fx / "bad.yaml").write_text("trainer: {max_steps: 3\n  oops: [\n")
    (fx / "list.yaml").write_text("- 1\n- 2\n")
    (fx / "nan.yaml").write_text("optim:\n  lr: .nan\n")
    (fx / "unknown.yaml").write_text("trainer:\n  max_stepz: 3\n")
    (fx / "latin1.yaml").write_bytes("seed: 0 # caf\xe9\n".encode("latin-1"))
    (fx / "garbage.ckpt").write_bytes(os.urandom(4096))
    import torch

    torch.save({"state_dict": {"w": torch.zeros(4000)}, "global_step": 3, "loops": {}},
               fx / "whole.ckpt")  # fmt: skip
    whole = (fx / "whole.ckpt").read_bytes()
    (fx / "truncated.ckpt").write_bytes(whole[: len(whole) // 2])
    torch.save({"weights": torch.zeros(3)}, fx / "foreign.ckpt")
    (fx / "grammar.jsgf").write_text("#JSGF V1.0;\ngrammar g;\npublic <s> = hello | world;\n")
    (fx / "bad.jsgf").write_text("this is not jsgf")


def _write_models(fx: Path) -> None:
    import numpy as np
    import torch

    from synesthesia.models import create_model
    from synesthesia.text.tokenizer import CharTokenizer

    torch.manual_seed(0)
    text = (fx / "text.txt").read_text()
    tokenizer = CharTokenizer.from_text(text)
    gpt = fx / "gpt"
    create_model("gpt_tiny", vocab_size=tokenizer.vocab_size, max_seq_len=64).save_pretrained(gpt)
    tokenizer.save(gpt)
    create_model("wavenet_tiny").save_pretrained(fx / "wavenet")
    for name in ("caption_digits", "embed_digits", "scene_synthetic", "tts_espeak"):
        shutil.copytree(PRETRAINED / name, fx / name)
        damaged = fx / f"{name}_flipped"
        shutil.copytree(PRETRAINED / name, damaged)
        weights = bytearray((damaged / "model.safetensors").read_bytes())
        (header_size,) = struct.unpack("<Q", weights[:8])
        middle = 8 + header_size + (len(weights) - 8 - header_size) // 2
        weights[middle : middle + 256] = bytes(b ^ 0xFF for b in weights[middle : middle + 256])
        (damaged / "model.safetensors").write_bytes(bytes(weights))  # header intact
        truncated = fx / f"{name}_truncated"
        shutil.copytree(PRETRAINED / name, truncated)
        data = (truncated / "model.safetensors").read_bytes()
        (truncated / "model.safetensors").write_bytes(data[: len(data) // 2])
        garbled = fx / f"{name}_badconfig"
        shutil.copytree(PRETRAINED / name, garbled)
        (garbled / "config.json").write_text("{not json")
    for name in ("gpt", "wavenet"):
        damaged = fx / f"{name}_flipped"
        shutil.copytree(fx / name, damaged)
        weights = bytearray((damaged / "model.safetensors").read_bytes())
        (header_size,) = struct.unpack("<Q", weights[:8])
        middle = 8 + header_size + (len(weights) - 8 - header_size) // 2
        weights[middle : middle + 256] = bytes(b ^ 0xFF for b in weights[middle : middle + 256])
        (damaged / "model.safetensors").write_bytes(bytes(weights))
    (fx / "empty_dir").mkdir()
    # a log-mel of the tiny WaveNet's analysis, and bad ones
    from synesthesia.models import load_pretrained
    from synesthesia.transforms import LogMelSpectrogram

    wavenet = load_pretrained(fx / "wavenet")
    import soundfile as sf

    wave, rate = sf.read(fx / "ok.wav", dtype="float32")
    config = wavenet.audio_config
    mel = LogMelSpectrogram.from_config(config)(torch.from_numpy(wave[: rate // 4]))
    np.save(fx / "mel.npy", mel.numpy().astype("float32"))
    (fx / "mel.json").write_text(json.dumps(config.to_dict()))
    bad = mel.numpy().copy()
    bad[:, 3] = np.nan
    np.save(fx / "mel_nan.npy", bad)
    np.save(fx / "mel_bins.npy", mel.numpy()[:-3])
    np.save(fx / "mel_empty.npy", mel.numpy()[:, :0])
    np.save(fx / "mel_pickle.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (fx / "mel_text.npy").write_text("not numpy")


def _write_corpus(fx: Path) -> None:
    code = subprocess.run(
        [sys.executable, "-m", "synesthesia", "-q", "data", "espeak", "--out", str(fx / "corpus"),
         "--num-utterances", "8", "--kind", "grid", "--voices", "en-us", "--sample-rate", "16000"],
        capture_output=True, text=True,
    )  # fmt: skip
    if code.returncode != 0:
        raise SystemExit(f"could not build the tiny corpus: {code.stderr}")
    (fx / "corpus_nosplit").mkdir()
    shutil.copytree(fx / "corpus" / "wavs", fx / "corpus_nosplit" / "wavs")
    shutil.copy(fx / "corpus" / "metadata.csv", fx / "corpus_nosplit" / "metadata.csv")
    (fx / "corpus_empty").mkdir()
    (fx / "corpus_junk").mkdir()
    (fx / "corpus_junk" / "metadata.csv").write_text("a|b\n")


def make_fixtures(fx: Path) -> None:
    fx.mkdir(parents=True, exist_ok=True)
    _write_wavs(fx)
    _write_images(fx)
    _write_texts(fx)
    _write_models(fx)
    _write_corpus(fx)
    (fx / "a_file").write_text("I am a file, not a folder\n")
    (fx / "a_dir").mkdir()


# -- the corpus ----------------------------------------------------------------------------
#: bad audio inputs: (file in the fixtures, what it is, what counts as right)
AUDIO_INPUTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("missing.wav", "missing file", (ERROR,)),
    ("empty.wav", "empty file", (ERROR,)),
    ("text.wav", "text file named .wav", (ERROR,)),
    ("png.wav", "PNG named .wav", (ERROR,)),
    ("a_dir", "a directory", (ERROR,)),
    ("truncated.wav", "truncated WAV (header longer than data)", (WARN, ERROR)),
    ("header_only.wav", "WAV header, no samples", (ERROR,)),
    ("rate8k.wav", "8 kHz WAV", (SUCCESS,)),
    ("rate48k.wav", "48 kHz WAV", (SUCCESS,)),
    ("stereo.wav", "stereo WAV", (SUCCESS, WARN, ERROR)),
    ("u8.wav", "8-bit WAV", (SUCCESS,)),
    ("float.wav", "float32 WAV", (SUCCESS,)),
    ("silence.wav", "silence", (SUCCESS, WARN)),
    ("nan.wav", "float WAV with NaN samples", (ERROR,)),
    ("tiny.wav", "10 samples", (ERROR, WARN, SUCCESS)),
    ("ok.flac", "FLAC", (SUCCESS,)),
]

IMAGE_INPUTS: list[tuple[str, str, tuple[str, ...]]] = [
    ("missing.png", "missing file", (ERROR,)),
    ("empty.png", "empty file", (ERROR,)),
    ("text.png", "text file named .png", (ERROR,)),
    ("wav.png", "WAV named .png", (ERROR,)),
    ("truncated.png", "truncated PNG", (ERROR,)),
    ("a_dir", "a directory", (ERROR,)),
    ("one_pixel.png", "1x1 grey image", (SUCCESS, ERROR)),
    ("rgba.png", "transparent RGBA image", (SUCCESS,)),
    ("sliver.png", "4000x3 image", (SUCCESS, ERROR)),
]

#: --model folders that are not a usable model (name suffix of a fixture or a path)
BAD_MODELS: list[tuple[str, str]] = [
    ("missing_model", "missing folder"),
    ("empty_dir", "empty folder"),
    ("a_file", "a file instead of a folder"),
    ("{name}_flipped", "weights with bytes flipped mid-file (header intact)"),
    ("{name}_truncated", "weights cut in half"),
    ("{name}_badconfig", "config.json not JSON"),
    ("{other}", "a model of another task"),
]


def _audio_cases() -> list[Case]:
    cases: list[Case] = []
    commands = {
        "audio show": (["audio", "show", "{input}", "-o", "{case}/out.png"], ("out.png",)),
        "audio reconstruct": (
            ["audio", "reconstruct", "{input}", "-o", "{case}/out.wav", "--n-iter", "2"],
            ("out.wav",),
        ),
        "scene predict": (["scene", "predict", "{input}", "--model", "{fx}/scene_synthetic"], ()),
        "vocoder mel": (
            ["vocoder", "mel", "{input}", "--model", "{fx}/wavenet", "-o", "{case}/mel.npy"],
            ("mel.npy",),
        ),
        "vocoder synthesize": (
            [
                "vocoder",
                "synthesize",
                "{input}",
                "--griffin-lim",
                "--n-iter",
                "2",
                "--audio-config",
                "{fx}/mel.json",
                "-o",
                "{case}/out.wav",
            ],
            ("out.wav",),
        ),  # fmt: skip
        "embed retrieve": (
            [
                "embed",
                "retrieve",
                "--audio",
                "{input}",
                "--images",
                "{fx}/gallery_ok",
                "--model",
                "{fx}/embed_digits",
                "-o",
                "{case}/grid.png",
            ],
            ("grid.png",),
        ),  # fmt: skip
        "judge": (["judge", "{input}", "--text", "bin blue at f two now", "--grammar", "grid"], ()),
    }
    full = ("audio show", "scene predict", "vocoder mel", "judge")  # every bad input
    some = ("missing.wav", "empty.wav", "text.wav", "truncated.wav", "nan.wav", "stereo.wav")
    for command, (template, outputs) in commands.items():
        for name, what, expect in AUDIO_INPUTS:
            if command not in full and name not in some:
                continue
            argv = [a.replace("{input}", "{fx}/" + name) for a in template]
            cases.append(Case(command, f"input: {what}", argv, expect, outputs))
    return cases


def _image_cases() -> list[Case]:
    cases: list[Case] = []
    for name, what, expect in IMAGE_INPUTS:
        cases.append(Case("caption predict", f"input: {what}",
                          ["caption", "predict", "{fx}/" + name, "--model", "{fx}/caption_digits"],
                          expect))  # fmt: skip
        cases.append(Case("embed retrieve", f"query image: {what}",
                          ["embed", "retrieve", "--image", "{fx}/" + name, "--audios",
                           "{fx}/audios_ok", "--model", "{fx}/embed_digits"], expect))  # fmt: skip
    both = ["caption", "predict", "{fx}/ok.png", "{fx}/missing.png"]
    cases.append(Case("caption predict", "one good, one missing image", both, (ERROR,)))
    return cases


def _output_cases() -> list[Case]:
    """Unwritable outputs and files that must survive a failed run."""
    commands = {
        "audio show": (["audio", "show", "{fx}/ok.wav", "-o"], ".png", ".wav"),
        "audio reconstruct": (
            ["audio", "reconstruct", "{fx}/ok.wav", "--n-iter", "2", "-o"],
            ".wav",
            ".png",
        ),  # fmt: skip
        "vocoder mel": (
            ["vocoder", "mel", "{fx}/ok.wav", "--model", "{fx}/wavenet", "-o"],
            ".npy",
            ".wav",
        ),  # fmt: skip
        "vocoder synthesize": (
            ["vocoder", "synthesize", "{fx}/mel.npy", "--griffin-lim", "--n-iter", "2", "-o"],
            ".wav",
            ".png",
        ),  # fmt: skip
        "speak": (["speak", "Hi.", "--griffin-lim-iters", "2", "-o"], ".wav", ".png"),
        "embed retrieve": (
            ["embed", "retrieve", "--audio", "{fx}/ok.wav", "--images", "{fx}/gallery_ok", "-o"],
            ".png",
            ".wav",
        ),  # fmt: skip
    }
    cases: list[Case] = []
    for command, (prefix, good, wrong) in commands.items():
        cases += [
            Case(command, "output: parent is a file", [*prefix, f"{{case}}/blocker/out{good}"],
                 (ERROR,), setup={"blocker": "text:a file"}, guard=("blocker",)),
            Case(command, "output: an existing directory", [*prefix, "{case}/outdir"],
                 (ERROR,), setup={"outdir": "dir"}),
            Case(command, f"output: wrong suffix {wrong}", [*prefix, f"{{case}}/out{wrong}"],
                 (ERROR,)),
            Case(command, "output: missing parent folder",
                 [*prefix, f"{{case}}/new/dir/out{good}"], (SUCCESS, ERROR),
                 outputs=(f"new/dir/out{good}",)),
            Case(command, "good run overwrites an existing output",
                 [*prefix, f"{{case}}/old{good}"], (SUCCESS,), outputs=(f"old{good}",),
                 setup={f"old{good}": "text:old"}),
        ]  # fmt: skip
    # a failing run must leave an existing output untouched
    fail_keeps = [
        ("audio show", ["audio", "show", "{fx}/empty.wav", "-o", "{case}/old.png"], "old.png"),
        ("audio reconstruct", ["audio", "reconstruct", "{fx}/text.wav", "-o", "{case}/old.wav"],
         "old.wav"),
        ("vocoder mel", ["vocoder", "mel", "{fx}/nan.wav", "--model", "{fx}/wavenet", "-o",
                         "{case}/old.npy"], "old.npy"),
        ("vocoder synthesize", ["vocoder", "synthesize", "{fx}/mel_nan.npy", "--griffin-lim",
                                "-o", "{case}/old.wav"], "old.wav"),
        ("speak", ["speak", "Hi.", "--model", "{fx}/tts_espeak_flipped", "-o", "{case}/old.wav"],
         "old.wav"),
        ("speak", ["speak", "Hi.", "-o", "{case}/old.wav", "--alignment-out",
                   "{case}/missingdir_is_file/a.png"], "old.wav"),
        ("speak", ["speak", "Hi.", "-o", "{case}/old.wav", "--mel-out", "{case}/mel.wav"],
         "old.wav"),
        ("speak", ["speak", "Hi.", "-o", "{case}/old.wav", "--alignment-out", "{case}/a.txt"],
         "old.wav"),
        ("embed retrieve", ["embed", "retrieve", "--audio", "{fx}/empty.wav", "--images",
                            "{fx}/gallery_ok", "-o", "{case}/old.png"], "old.png"),
        ("embed retrieve", ["embed", "retrieve", "--audio", "{fx}/ok.wav", "--images",
                            "{fx}/gallery_ok", "-o", "{case}/grid.wav"], None),
    ]  # fmt: skip
    for command, argv, kept in fail_keeps:
        setup = {"missingdir_is_file": "text:a file"} if "missingdir_is_file" in str(argv) else {}
        guard: tuple[str, ...] = ()
        if kept is not None:
            setup[kept] = "text:precious"
            guard = (kept,)
        cases.append(Case(command, "a failing run keeps the existing output " + argv[-1]
                          .replace("{case}/", "").replace("{fx}/", ""), argv, (ERROR,),
                          setup=setup, guard=guard))  # fmt: skip
    cases.append(Case("caption predict", "--attention-out is a file",
                      ["caption", "predict", "{fx}/ok.png", "--attention-out", "{case}/blocker"],
                      (ERROR,), setup={"blocker": "text:file"}, guard=("blocker",)))  # fmt: skip
    cases.append(Case("caption predict", "--attention-out new folder",
                      ["caption", "predict", "{fx}/ok.png", "--attention-out", "{case}/att"],
                      (SUCCESS,)))  # fmt: skip
    return cases


def _numeric_cases() -> list[Case]:
    rows = [
        ("audio show", ["audio", "show", "{fx}/ok.wav", "-o", "{case}/o.png"],
         [("--n-fft", "0"), ("--n-fft", "-1"), ("--hop-length", "0"), ("--hop-length", "-5"),
          ("--n-mels", "0"), ("--sample-rate", "0"), ("--sample-rate", "-8000"),
          ("--n-fft", "100000000")]),
        ("audio reconstruct", ["audio", "reconstruct", "{fx}/ok.wav", "-o", "{case}/o.wav"],
         [("--n-iter", "0"), ("--n-iter", "-1"), ("--momentum", "-1"), ("--momentum", "nan"),
          ("--momentum", "inf"), ("--hop-length", "0")]),
        ("scene predict", ["scene", "predict", "{fx}/ok.wav"], [("--top", "0"), ("--top", "-1")]),
        ("caption predict", ["caption", "predict", "{fx}/ok.png"],
         [("--beam-size", "0"), ("--beam-size", "-1"), ("--max-length", "0"),
          ("--max-length", "-1")]),
        ("caption evaluate", ["caption", "evaluate"],
         [("--num-strips", "0"), ("--num-strips", "-1"), ("--beam-size", "0")]),
        ("embed retrieve", ["embed", "retrieve", "--audio", "{fx}/ok.wav", "--images",
                            "{fx}/gallery_ok"], [("-k", "0"), ("-k", "-1")]),
        ("lm generate", ["lm", "generate", "--model", "{fx}/gpt", "--prompt", "the cat"],
         [("--max-new-tokens", "-1"), ("--temperature", "-1"), ("--temperature", "nan"),
          ("--temperature", "inf"), ("--top-k", "0"), ("--top-k", "-1")]),
        ("vocoder synthesize", ["vocoder", "synthesize", "{fx}/mel.npy", "--model", "{fx}/wavenet",
                                "-o", "{case}/o.wav"],
         [("--temperature", "-1"), ("--temperature", "nan"), ("--griffin-lim", "--n-iter", "-3"),
          ("--griffin-lim", "--n-iter", "0")]),
        ("speak", ["speak", "Hi.", "-o", "{case}/o.wav"],
         [("--griffin-lim-iters", "0"), ("--griffin-lim-iters", "-1")]),
        ("data espeak", ["data", "espeak", "--out", "{case}/c", "--voices", "en-us"],
         [("--num-utterances", "0"), ("--num-utterances", "-1"), ("--sample-rate", "0"),
          ("--sample-rate", "-16000"), ("--rate-range", "300", "100"),
          ("--pitch-range", "-5", "200")]),
        ("judge", ["judge", "{fx}/ok.wav", "--text", "bin blue at f two now"],
         [("--limit", "0"), ("--limit", "-1")]),
        ("demo", ["demo", "--out", "{case}/d"], [("--only", "nope"), ("--only", ",")]),
    ]  # fmt: skip
    cases = []
    for command, base, flags in rows:
        for flag in flags:
            cases.append(Case(command, f"{' '.join(flag)}", [*base, *flag], (ERROR,)))
    return cases


def _model_cases() -> list[Case]:
    users = [
        ("lm generate", ["lm", "generate", "--prompt", "the cat", "--max-new-tokens", "3",
                         "--model"], "gpt", "scene_synthetic"),
        ("caption predict", ["caption", "predict", "{fx}/ok.png", "--model"], "caption_digits",
         "embed_digits"),
        ("caption evaluate", ["caption", "evaluate", "--num-strips", "4", "--model"],
         "caption_digits", "gpt"),
        ("embed evaluate", ["embed", "evaluate", "--model"], "embed_digits", "caption_digits"),
        ("embed retrieve", ["embed", "retrieve", "--audio", "{fx}/ok.wav", "--images",
                            "{fx}/gallery_ok", "--model"], "embed_digits", "scene_synthetic"),
        ("scene predict", ["scene", "predict", "{fx}/ok.wav", "--model"], "scene_synthetic",
         "embed_digits"),
        ("vocoder mel", ["vocoder", "mel", "{fx}/ok.wav", "-o", "{case}/m.npy", "--model"],
         "wavenet", "tts_espeak"),
        ("vocoder synthesize", ["vocoder", "synthesize", "{fx}/mel.npy", "-o", "{case}/o.wav",
                                "--model"], "wavenet", "tts_espeak"),
        ("speak", ["speak", "Hi.", "-o", "{case}/o.wav", "--griffin-lim-iters", "2", "--model"],
         "tts_espeak", "wavenet"),
    ]  # fmt: skip
    cases = []
    for command, base, name, other in users:
        for pattern, what in BAD_MODELS:
            folder = pattern.format(name=name, other=other)
            if pattern == "{name}_truncated" and command not in ("speak", "scene predict"):
                continue
            if not (pattern.startswith("{name}") and name in ("gpt", "wavenet")) or folder.endswith(
                "_flipped"
            ):
                cases.append(Case(command, f"--model: {what}", [*base, "{fx}/" + folder], (ERROR,)))
    cases.append(Case("speak", "--vocoder: weights with bytes flipped",
                      ["speak", "Hi.", "-o", "{case}/o.wav", "--vocoder", "{fx}/wavenet_flipped"],
                      (ERROR,)))  # fmt: skip
    cases.append(
        Case(
            "speak",
            "--vocoder: a file",
            ["speak", "Hi.", "-o", "{case}/o.wav", "--vocoder", "{fx}/a_file"],
            (ERROR,),
        )
    )
    return cases


def _train_cases() -> list[Case]:
    tiny = {
        "lm train": ["lm", "train", "--text", "{fx}/text.txt", "--set", "data.block_size=16",
                     "data.batch_size=4"],
        "caption train": ["caption", "train", "--set", "data.batch_size=4", "data.num_val=8"],
        "embed train": ["embed", "train", "--set", "model.name=dual_encoder_tiny",
                        "data.variations=1", "data.batch_size=10"],
        "scene train": ["scene", "train", "--set", "model.name=scene_student_tiny",
                        "data.duration=0.25", "data.teacher_per_class=4",
                        "data.unlabeled_per_class=4", "data.probe_per_class=2",
                        "data.test_per_class=2", "data.batch_size=8", "data.teacher_steps=2"],
        "vocoder train": ["vocoder", "train", "--data", "{fx}/corpus", "--set",
                          "data.segment_length=1024", "data.batch_size=2",
                          "data.val_segment_length=1024", "data.max_val_utterances=2"],
        "tts train": ["tts", "train", "--data", "{fx}/corpus", "--set", "data.batch_size=2",
                      "data.val_fraction=0.25", "data.max_val_utterances=2"],
    }  # fmt: skip
    fast = ["trainer.max_steps=2", "trainer.val_check_interval=2", "trainer.progress_bar=false",
            "trainer.accelerator=cpu", "trainer.num_sanity_val_steps=0"]  # fmt: skip
    cases = []
    for command, base in tiny.items():
        run = [*base, *fast]

        def c(tried, extra, expect=(ERROR,), run=run, command=command, **kw):
            argv = [*run[:2], "--out", "{case}/run", *run[2:], *extra]
            return Case(command, tried, argv, expect, **kw)

        if command != "lm train":  # the full table once; the rest share config parsing
            cases += [
                Case(command, "without lightning installed", [*run[:2], "--out", "{case}/run",
                     *run[2:]], (ERROR,), no_lightning=True),
                c("--config: bad YAML", ["--config", "{fx}/bad.yaml"]),
                c("--set unknown key", ["--set", "trainer.max_stepz=3"]),
                c("--set optim.lr=nan", ["--set", "optim.lr=nan"]),
                c("--max-steps 0", ["--max-steps", "0"]),
                c("--resume garbage checkpoint", ["--resume", "{fx}/garbage.ckpt"]),
                Case(command, "--out is a file", [*run[:2], "--out", "{case}/blocker", *run[2:]],
                     (ERROR,), setup={"blocker": "text:a file"}, guard=("blocker",)),
                c("tiny run (baseline)", [], (SUCCESS,), outputs=("run/model/model.safetensors",)),
            ]  # fmt: skip
            continue
        cases += [
            Case(command, "without lightning installed", [*run[:2], "--out", "{case}/run",
                 *run[2:]], (ERROR,), no_lightning=True),
            c("--config: bad YAML", ["--config", "{fx}/bad.yaml"]),
            c("--config: YAML list, not a mapping", ["--config", "{fx}/list.yaml"]),
            c("--config: missing file", ["--config", "{fx}/missing.yaml"]),
            c("--config: a directory", ["--config", "{fx}/a_dir"]),
            c("--config: not UTF-8", ["--config", "{fx}/latin1.yaml"], (ERROR, SUCCESS)),
            c("--config: optim.lr: .nan", ["--config", "{fx}/nan.yaml"]),
            c("--config: unknown key", ["--config", "{fx}/unknown.yaml"]),
            c("--set unknown key", ["--set", "trainer.max_stepz=3"]),
            c("--set without =", ["--set", "trainer.max_steps"]),
            c("--set optim.lr=nan", ["--set", "optim.lr=nan"]),
            c("--set optim.lr=.inf", ["--set", "optim.lr=.inf"]),
            c("--set optim.lr=-1", ["--set", "optim.lr=-1"]),
            c("--set trainer.gradient_clip_val=.nan", ["--set", "trainer.gradient_clip_val=.nan"]),
            c("--max-steps 0", ["--max-steps", "0"]),
            c("--max-steps -1", ["--max-steps", "-1"]),
            c("--resume missing checkpoint", ["--resume", "{fx}/missing.ckpt"]),
            c("--resume garbage checkpoint", ["--resume", "{fx}/garbage.ckpt"]),
            c("--resume truncated checkpoint", ["--resume", "{fx}/truncated.ckpt"]),
            c("--resume a torch file that is no training checkpoint",
              ["--resume", "{fx}/foreign.ckpt"]),
            c("damaged last.ckpt (resume auto)", [], setup={"run/checkpoints/last.ckpt":
              "text:PK half a checkpoint"}, guard=("run/checkpoints/last.ckpt",)),
            Case(command, "--out is a file", [*run[:2], "--out", "{case}/blocker", *run[2:]],
                 (ERROR,), setup={"blocker": "text:a file"}, guard=("blocker",)),
            c("tiny run (baseline)", [], (SUCCESS,), outputs=("run/model/model.safetensors",)),
        ]  # fmt: skip
    cases += [
        Case("lm train", "--text missing", ["lm", "train", "--text", "{fx}/missing.txt", "--out",
             "{case}/r"], (ERROR,)),
        Case("lm train", "--text empty", ["lm", "train", "--text", "{fx}/empty.txt", "--out",
             "{case}/r"], (ERROR,)),
        Case("lm train", "--text not UTF-8", ["lm", "train", "--text", "{fx}/latin1.txt", "--out",
             "{case}/r"], (ERROR,)),
        Case("lm train", "--text a directory", ["lm", "train", "--text", "{fx}/a_dir", "--out",
             "{case}/r"], (ERROR,)),
        Case("lm train", "--text too short", ["lm", "train", "--text", "{fx}/short.txt", "--out",
             "{case}/r"], (ERROR,)),
        Case("caption train", "--data missing file", ["caption", "train", "--data",
             "{fx}/missing.json", "--image-root", "{fx}/a_dir", "--out", "{case}/r"], (ERROR,)),
        Case("caption train", "--data not JSON", ["caption", "train", "--data", "{fx}/text.txt",
             "--image-root", "{fx}/a_dir", "--out", "{case}/r"], (ERROR,)),
        Case("caption train", "--data without --image-root", ["caption", "train", "--data",
             "{fx}/text.txt", "--out", "{case}/r"], (ERROR,)),
        Case("vocoder train", "--data missing", ["vocoder", "train", "--data", "{fx}/nope",
             "--out", "{case}/r"], (ERROR,)),
        Case("vocoder train", "--data empty folder", ["vocoder", "train", "--data",
             "{fx}/corpus_empty", "--out", "{case}/r"], (ERROR,)),
        Case("vocoder train", "--data a file", ["vocoder", "train", "--data", "{fx}/a_file",
             "--out", "{case}/r"], (ERROR,)),
        Case("vocoder train", "no --data", ["vocoder", "train", "--out", "{case}/r"], (ERROR,)),
        Case("tts train", "--data missing", ["tts", "train", "--data", "{fx}/nope", "--out",
             "{case}/r"], (ERROR,)),
        Case("tts train", "--data empty folder", ["tts", "train", "--data", "{fx}/corpus_empty",
             "--out", "{case}/r"], (ERROR,)),
        Case("tts train", "--data metadata lists no wavs", ["tts", "train", "--data",
             "{fx}/corpus_junk", "--out", "{case}/r"], (ERROR,)),
        Case("scene train", "--set data.duration=0", ["scene", "train", "--out", "{case}/r",
             "--set", "data.duration=0"], (ERROR,)),
        Case("embed train", "--set data.loss=arcface", ["embed", "train", "--out", "{case}/r",
             "--set", "data.loss=arcface"], (ERROR,)),
    ]  # fmt: skip
    return cases


def _specific_cases() -> list[Case]:
    return [
        Case("judge", "--per-speaker without --metadata",
             ["judge", "{fx}/ok.wav", "--text", "bin blue", "--per-speaker"], (ERROR,)),
        Case("judge", "--split without --metadata",
             ["judge", "{fx}/ok.wav", "--text", "bin blue", "--split", "test"], (ERROR,)),
        Case("judge", "WAVs without --text count", ["judge", "{fx}/ok.wav", "{fx}/ok.wav",
             "--text", "bin blue"], (ERROR,)),
        Case("judge", "--metadata missing", ["judge", "--metadata", "{fx}/missing.csv"], (ERROR,)),
        Case("judge", "--metadata a directory", ["judge", "--metadata", "{fx}/a_dir"], (ERROR,)),
        Case("judge", "--metadata empty", ["judge", "--metadata", "{fx}/empty.txt"], (ERROR,)),
        Case("judge", "--metadata binary", ["judge", "--metadata", "{fx}/latin1.txt"], (ERROR,)),
        Case("judge", "--grammar bad .jsgf", ["judge", "{fx}/ok.wav", "--text", "hello",
             "--grammar", "{fx}/bad.jsgf"], (ERROR,)),
        Case("judge", "--grammar missing", ["judge", "{fx}/ok.wav", "--text", "hello",
             "--grammar", "{fx}/missing.jsgf"], (ERROR,)),
        Case("judge", "--text empty", ["judge", "{fx}/ok.wav", "--text", ""], (ERROR, SUCCESS)),
        Case("judge", "corpus metadata (baseline)", ["judge", "--metadata",
             "{fx}/corpus/metadata.csv", "--limit", "2"], (SUCCESS,)),
        Case("judge", "--per-speaker with metadata (baseline)", ["judge", "--metadata",
             "{fx}/corpus/metadata.csv", "--limit", "2", "--per-speaker"], (SUCCESS,)),
        Case("lm generate", '--prompt "zebra 😀" (characters not in the vocabulary)',
             ["lm", "generate", "--model", "{fx}/gpt", "--prompt", "zebra 😀",
              "--max-new-tokens", "3"], (ERROR, WARN)),
        Case("lm generate", "--prompt ''", ["lm", "generate", "--model", "{fx}/gpt", "--prompt",
             ""], (ERROR,)),
        Case("lm generate", "--max-new-tokens 0 (baseline)", ["lm", "generate", "--model",
             "{fx}/gpt", "--prompt", "the cat", "--max-new-tokens", "0"], (SUCCESS,)),
        Case("lm generate", "model without tokenizer.json", ["lm", "generate", "--model",
             "{fx}/wavenet", "--prompt", "the"], (ERROR,)),
        Case("speak", "non-UTF-8 stdin to 'speak -'", ["speak", "-", "-o", "{case}/o.wav"],
             (ERROR,), stdin="caf\xe9 \xff\xfe".encode("latin-1")),
        Case("speak", "empty stdin", ["speak", "-", "-o", "{case}/o.wav"], (ERROR,), stdin=b""),
        Case("speak", "empty text", ["speak", "", "-o", "{case}/o.wav"], (ERROR,)),
        Case("speak", "only punctuation", ["speak", "?!...", "-o", "{case}/o.wav"], (ERROR, WARN,
             SUCCESS), outputs=("o.wav",)),
        Case("speak", "emoji and CJK", ["speak", "😀 你好", "-o", "{case}/o.wav",
             "--griffin-lim-iters", "2"], (ERROR, WARN, SUCCESS), outputs=("o.wav",)),
        Case("speak", "NUL byte in text", ["speak", "hi\x01there", "-o", "{case}/o.wav",
             "--griffin-lim-iters", "2"], (ERROR, SUCCESS), outputs=("o.wav",)),
        Case("speak", "stdin text (baseline)", ["speak", "-", "-o", "{case}/o.wav",
             "--griffin-lim-iters", "2"], (SUCCESS,), outputs=("o.wav",), stdin=b"Hello there."),
        Case("speak", "--vocoder unknown word", ["speak", "Hi.", "-o", "{case}/o.wav",
             "--vocoder", "wavenet"], (ERROR,)),
        Case("vocoder synthesize", "mel with NaN", ["vocoder", "synthesize", "{fx}/mel_nan.npy",
             "--model", "{fx}/wavenet", "-o", "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "mel with wrong bins", ["vocoder", "synthesize",
             "{fx}/mel_bins.npy", "--model", "{fx}/wavenet", "-o", "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "mel with no frames", ["vocoder", "synthesize",
             "{fx}/mel_empty.npy", "--model", "{fx}/wavenet", "-o", "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "pickled .npy", ["vocoder", "synthesize",
             "{fx}/mel_pickle.npy", "--model", "{fx}/wavenet", "-o", "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "text named .npy", ["vocoder", "synthesize",
             "{fx}/mel_text.npy", "--model", "{fx}/wavenet", "-o", "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "no --model and no --griffin-lim", ["vocoder", "synthesize",
             "{fx}/ok.wav", "-o", "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "--audio-config missing", ["vocoder", "synthesize",
             "{fx}/ok.wav", "--griffin-lim", "--audio-config", "{fx}/missing.json", "-o",
             "{case}/o.wav"], (ERROR,)),
        Case("vocoder synthesize", "--audio-config not JSON", ["vocoder", "synthesize",
             "{fx}/ok.wav", "--griffin-lim", "--audio-config", "{fx}/bad.yaml", "-o",
             "{case}/o.wav"], (ERROR,)),
        Case("vocoder mel", "--audio-config not JSON", ["vocoder", "mel", "{fx}/ok.wav",
             "--audio-config", "{fx}/text.txt", "-o", "{case}/m.npy"], (ERROR,)),
        Case("vocoder mel", "neither --model nor --audio-config", ["vocoder", "mel",
             "{fx}/ok.wav", "-o", "{case}/m.npy"], (SUCCESS, ERROR), outputs=("m.npy",)),
        Case("embed retrieve", "--audio without --images", ["embed", "retrieve", "--audio",
             "{fx}/ok.wav"], (ERROR,)),
        Case("embed retrieve", "--images empty folder", ["embed", "retrieve", "--audio",
             "{fx}/ok.wav", "--images", "{fx}/empty_dir"], (ERROR,)),
        Case("embed retrieve", "--images only junk", ["embed", "retrieve", "--audio",
             "{fx}/ok.wav", "--images", "{fx}/gallery_junk"], (ERROR,)),
        Case("embed retrieve", "--images missing", ["embed", "retrieve", "--audio",
             "{fx}/ok.wav", "--images", "{fx}/nope"], (ERROR,)),
        Case("embed retrieve", "--images is a file", ["embed", "retrieve", "--audio",
             "{fx}/ok.wav", "--images", "{fx}/ok.png"], (ERROR,)),
        Case("embed retrieve", "--audios only junk", ["embed", "retrieve", "--image",
             "{fx}/digit.png", "--audios", "{fx}/audios_junk"], (ERROR,)),
        Case("embed retrieve", "--audio with --audios gallery", ["embed", "retrieve", "--audio",
             "{fx}/ok.wav", "--audios", "{fx}/audios_ok"], (ERROR,)),
        Case("embed retrieve", "grid to -o grid.wav (wrong suffix)", ["embed", "retrieve",
             "--audio", "{fx}/ok.wav", "--images", "{fx}/gallery_ok", "-o", "{case}/grid.wav"],
             (ERROR,)),
        Case("embed evaluate", "--cache-dir is a file", ["embed", "evaluate", "--model",
             "{fx}/embed_digits", "--cache-dir", "{case}/blocker"], (ERROR,),
             setup={"blocker": "text:x"}, guard=("blocker",)),
        Case("data espeak", "--voices unknown", ["data", "espeak", "--out", "{case}/c",
             "--num-utterances", "2", "--voices", "klingon"], (ERROR,)),
        Case("data espeak", "--out is a file", ["data", "espeak", "--out", "{case}/blocker",
             "--num-utterances", "2", "--voices", "en-us"], (ERROR,),
             setup={"blocker": "text:x"}, guard=("blocker",)),
        Case("data espeak", "--out parent is a file", ["data", "espeak", "--out",
             "{case}/blocker/c", "--num-utterances", "2", "--voices", "en-us"], (ERROR,),
             setup={"blocker": "text:x"}, guard=("blocker",)),
        Case("data espeak", "--out holds other files", ["data", "espeak", "--out", "{case}/full",
             "--num-utterances", "2", "--voices", "en-us"], (ERROR, SUCCESS),
             setup={"full/keep.txt": "text:mine"}, guard=("full/keep.txt",)),
        Case("data espeak", "2 utterances (baseline)", ["data", "espeak", "--out", "{case}/c",
             "--num-utterances", "2", "--voices", "en-us", "--kind", "grid"], (SUCCESS, WARN),
             outputs=("c/metadata.csv",)),
        Case("demo", "--out is a file", ["demo", "--out", "{case}/blocker", "--only", "nope"],
             (ERROR,), setup={"blocker": "text:x"}, guard=("blocker",)),
        Case("demo", "--out parent is a file", ["demo", "--out", "{case}/blocker/d"], (ERROR,),
             setup={"blocker": "text:x"}, guard=("blocker",)),
        Case("scene predict", "--model given a file", ["scene", "predict", "{fx}/ok.wav",
             "--model", "{fx}/ok.wav"], (ERROR,)),
        Case("audio show", "good WAV (baseline)", ["audio", "show", "{fx}/ok.wav", "-o",
             "{case}/o.png"], (SUCCESS,), outputs=("o.png",)),
        Case("audio show", "OGG input", ["audio", "show", "{fx}/ok.ogg", "-o", "{case}/o.png"],
             (SUCCESS,), outputs=("o.png",)),
        Case("audio show", "very loud float WAV", ["audio", "show", "{fx}/loud_float.wav", "-o",
             "{case}/o.png"], (SUCCESS, WARN), outputs=("o.png",)),
        Case("audio reconstruct", "very loud float WAV", ["audio", "reconstruct",
             "{fx}/loud_float.wav", "--n-iter", "2", "-o", "{case}/o.wav"], (WARN, ERROR),
             outputs=("o.wav",)),
    ]  # fmt: skip


def build_cases() -> list[Case]:
    cases = (
        _audio_cases()
        + _image_cases()
        + _output_cases()
        + _numeric_cases()
        + _model_cases()
        + _train_cases()
        + _specific_cases()
    )
    for case in cases:  # success cases that write nothing but stdout
        if SUCCESS in case.expect and not case.outputs:
            case.outputs = ()
    return cases


# -- running and classifying ---------------------------------------------------------------
def _digest(path: Path) -> str | None:
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    if path.is_dir():
        return "dir"
    return None


def _snapshot(folder: Path) -> dict[str, str | None]:
    return {str(p.relative_to(folder)): _digest(p) for p in folder.rglob("*") if p.is_file()}


def _prepare(case: Case, folder: Path, fx: Path) -> None:
    folder.mkdir(parents=True)
    for name, source in case.setup.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source == "dir":
            target.mkdir()
        elif source.startswith("text:"):
            target.write_text(source[5:])
        else:
            shutil.copy(fx / source, target)


def _expand(argv: list[str], fx: Path, folder: Path) -> list[str]:
    return [a.replace("{fx}", str(fx)).replace("{case}", str(folder)) for a in argv]


def classify(case: Case, returncode: int | None, stderr: str, before: dict, after: dict,
             folder: Path) -> tuple[str, str]:  # fmt: skip
    """(outcome, reason) of one finished case."""
    if returncode is None:
        return "other", "timed out"
    if "Traceback (most recent call last)" in stderr:
        last = [line for line in stderr.splitlines() if line.strip()]
        return "traceback", last[-1][:200] if last else "traceback"
    changed = [g for g in case.guard if before.get(g) != after.get(g)]
    if changed:
        return "lost file", f"changed or removed: {changed}"
    new_files = sorted(set(after) - set(before))
    if returncode != 0 and new_files:
        return "lost file", f"failed run left {new_files[:3]}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    warned = any(line.startswith("synesthesia: warning:") for line in lines)
    if returncode == 0:
        missing = [o for o in case.outputs if not (folder / o).is_file()]
        if SUCCESS in case.expect or (WARN in case.expect and warned):
            if missing:
                return "other", f"exit 0 but no {missing}"
            return "documented success", "warning" if warned else ""
        if WARN in case.expect:
            return "wrong silent success", "exit 0 without the expected warning"
        return "wrong silent success", "exit 0; expected an error" + (" (warned)" if warned else "")
    errors = [line for line in lines if line.startswith("synesthesia: error:")]
    others = [line for line in lines if not line.startswith("synesthesia: ")]
    if returncode == 2 and len(errors) == 1 and not others:
        if ERROR in case.expect:
            return "clean error", errors[0][len("synesthesia: error: ") :][:160]
        return "other", "refused a documented success: " + errors[0][:160]
    if returncode == 2 and any(": error:" in line for line in lines):
        return "other", "usage error: " + [x for x in lines if ": error:" in x][-1][:160]
    return "other", f"exit {returncode}: {(lines[-1] if lines else '')[:160]}"


def run_case(case: Case, index: int, fx: Path, work: Path, wrapper: Path) -> Result:
    folder = work / f"{index:03d}"
    _prepare(case, folder, fx)
    before = _snapshot(folder)
    argv = _expand(case.argv, fx, folder)
    prefix = [sys.executable, str(wrapper)] if case.no_lightning else [
        sys.executable, "-m", "synesthesia"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    start = time.perf_counter()
    try:
        done = subprocess.run([*prefix, *argv], input=case.stdin or b"", capture_output=True,
                              timeout=case.timeout, cwd=folder, env=env)  # fmt: skip
        returncode, stderr = done.returncode, done.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as exc:
        returncode, stderr = None, (exc.stderr or b"").decode("utf-8", "replace")
    seconds = time.perf_counter() - start
    after = _snapshot(folder)
    outcome, reason = classify(case, returncode, stderr, before, after, folder)
    tail = "\n".join(stderr.strip().splitlines()[-3:])
    return Result(case, outcome, returncode, reason, tail, seconds)


class _NoLightning:
    """A meta-path finder that makes ``import lightning`` fail like a missing package."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("lightning", "lightning_fabric", "pytorch_lightning"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _child(case: Case, argv: list[str], folder: Path, io_dir: Path) -> None:
    """In a forked child: run ``main(argv)`` with the case's stdio; never returns."""
    code = 1
    try:
        os.chdir(folder)
        stdin = io_dir / "stdin"
        stdin.write_bytes(case.stdin or b"")
        for fd, name, mode in ((0, "stdin", os.O_RDONLY),
                               (1, "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                               (2, "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):  # fmt: skip
            handle = os.open(io_dir / name, mode, 0o600)
            os.dup2(handle, fd)
            os.close(handle)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
        sys.argv = ["synesthesia", *argv]
        if case.no_lightning:
            sys.meta_path.insert(0, _NoLightning())
        from synesthesia.cli.main import main as cli_main

        try:
            code = int(cli_main(argv) or 0)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run_forked(cases: list[Case], fx: Path, work: Path, jobs: int) -> list[Result]:
    """Run every case in a child forked from this process, ``jobs`` at a time."""
    import torch

    import synesthesia.cli.main  # noqa: F401  (imported once, shared by every child)

    torch.set_num_threads(1)
    results: dict[int, Result] = {}
    running: dict[int, tuple[int, float, dict, Path, Path]] = {}
    pending = list(enumerate(cases))
    while pending or running:
        while pending and len(running) < jobs:
            index, case = pending.pop(0)
            folder, io_dir = work / f"{index:03d}", work / f"{index:03d}.io"
            _prepare(case, folder, fx)
            io_dir.mkdir()
            before = _snapshot(folder)
            argv = _expand(case.argv, fx, folder)
            pid = os.fork()
            if pid == 0:
                _child(case, argv, folder, io_dir)
            running[pid] = (index, time.perf_counter(), before, folder, io_dir)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            time.sleep(0.02)
            for other, (index, start, *_rest) in list(running.items()):
                if time.perf_counter() - start > cases[index].timeout:
                    os.kill(other, 9)
            continue
        index, start, before, folder, io_dir = running.pop(pid)
        case = cases[index]
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
        returncode = None if killed else os.waitstatus_to_exitcode(status)
        stderr = (io_dir / "stderr").read_text(encoding="utf-8", errors="replace")
        after = _snapshot(folder)
        outcome, reason = classify(case, returncode, stderr, before, after, folder)
        tail = "\n".join(stderr.strip().splitlines()[-3:])
        results[index] = Result(case, outcome, returncode, reason, tail,
                                time.perf_counter() - start)  # fmt: skip
        if len(results) % 25 == 0:
            print(f"  {len(results)}/{len(cases)}", file=sys.stderr)
    return [results[i] for i in range(len(cases))]


# -- report --------------------------------------------------------------------------------
def table(results: list[Result], *, markdown: bool) -> str:
    by_command: dict[str, Counter] = {}
    for r in results:
        by_command.setdefault(r.case.command, Counter())[r.outcome] += 1
    header = ["command", "tried", *OUTCOMES]
    rows = []
    total: Counter = Counter()
    for command in sorted(by_command):
        counts = by_command[command]
        total.update(counts)
        rows.append([command, str(sum(counts.values())), *(str(counts[o]) for o in OUTCOMES)])
    rows.append(["**total**" if markdown else "TOTAL", str(len(results)),
                 *(str(total[o]) for o in OUTCOMES)])  # fmt: skip
    if markdown:
        return markdown_table(header, rows)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return "\n".join(fmt.format(*row) for row in [header, *rows])


def details(results: list[Result], *, markdown: bool) -> str:
    bad = [r for r in results if r.outcome not in ("clean error", "documented success")]
    lines = []
    for r in sorted(bad, key=lambda r: (OUTCOMES.index(r.outcome), r.case.command)):
        if markdown:
            lines.append(f"| {r.outcome} | `{r.case.command}` | {r.case.tried} | "
                         f"{r.reason.replace('|', '/')} |")  # fmt: skip
        else:
            lines.append(f"[{r.outcome}] {r.case.command}: {r.case.tried} -> {r.reason}")
    if markdown and lines:
        lines = ["| outcome | command | tried | what happened |", "|---|---|---|---|", *lines]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", type=Path, default=None, help="write the tables here")
    parser.add_argument("--json", type=Path, default=None, help="write every result here")
    parser.add_argument("--only", default=None, help="comma-separated command prefixes")
    parser.add_argument("--jobs", type=int, default=2, help="cases run at once (default 2)")
    parser.add_argument("--keep", type=Path, default=None, help="work here and keep the files")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument(
        "--fresh", action="store_true", help="start every case as `python -m synesthesia`"
    )
    parser.add_argument(
        "--src", type=Path, default=None,
        help="run the synesthesia package found in this src folder (e.g. of a `git archive "
        "HEAD` snapshot, so that edits in progress do not disturb the run)",
    )  # fmt: skip
    args = parser.parse_args()
    if args.src is not None:
        src = str(args.src.resolve())
        os.environ["PYTHONPATH"] = os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])
        sys.path.insert(0, src)
        if "synesthesia" in sys.modules:
            raise SystemExit("--src: synesthesia was imported before the path was set")
    cases = build_cases()
    if args.only:
        prefixes = tuple(p.strip() for p in args.only.split(","))
        cases = [c for c in cases if c.command.startswith(prefixes)]
    if args.list:
        for c in cases:
            print(f"{c.command}: {c.tried}  ({'/'.join(c.expect)})")
        print(f"{len(cases)} cases")
        return 0
    base = Path(tempfile.mkdtemp(prefix="bad_inputs_")) if args.keep is None else args.keep
    base.mkdir(parents=True, exist_ok=True)
    fx, work = base / "fx", base / "cases"
    start = time.perf_counter()
    if not fx.is_dir():
        print(f"making fixtures in {fx} ...", file=sys.stderr)
        make_fixtures(fx)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    wrapper = base / "no_lightning.py"
    wrapper.write_text(_NO_LIGHTNING)
    mode = "fresh interpreters" if args.fresh else "forked children"
    print(f"running {len(cases)} cases, {args.jobs} at a time, in {mode} ...", file=sys.stderr)
    if args.fresh:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_case, c, i, fx, work, wrapper) for i, c in enumerate(cases)]
            results = []
            for n, future in enumerate(futures, 1):
                results.append(future.result())
                if n % 25 == 0:
                    print(f"  {n}/{len(cases)}", file=sys.stderr)
    else:
        results = run_forked(cases, fx, work, args.jobs)
    elapsed = time.perf_counter() - start
    print(table(results, markdown=False))
    print()
    print(details(results, markdown=False))
    print(f"\n{len(results)} cases in {elapsed:.0f} s; files in {base}")
    if args.markdown is not None:
        args.markdown.write_text(
            table(results, markdown=True) + "\n\n" + details(results, markdown=True) + "\n"
        )
    if args.json is not None:
        args.json.write_text(json.dumps([
            {"command": r.case.command, "tried": r.case.tried, "argv": r.case.argv,
             "expect": list(r.case.expect), "outcome": r.outcome, "reason": r.reason,
             "returncode": r.returncode, "stderr_tail": r.stderr_tail, "seconds": r.seconds}
            for r in results
        ], indent=1, ensure_ascii=False))  # fmt: skip
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
