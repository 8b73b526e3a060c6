"""``synesthesia serve``: the web app (one tab per capability and the chain) on this computer.

Parse, check, hand over to :func:`synesthesia.web.app.launch`. Needs the ``web`` extra
(Gradio); never imports Lightning.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="start the web app (one tab per capability, and the chain) on 127.0.0.1:7860",
        description="Serve a local web page: caption an image, speak a text, vocode a clip, "
        "draw a sound's representations, name its scene, retrieve the digit it says, "
        "continue a text, or run the whole chain (image → caption → speech → sound → scene "
        "→ digits). Uploads, recordings and results stay in a temporary folder that is "
        'deleted when the server stops. Needs pip install "synesthesia[web]".',
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this computer only; 0.0.0.0 "
                   "exposes the app to your network)")  # fmt: skip
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--vocoder", action="append", default=[], metavar="[NAME=]DIR",
                   help="add a WaveNet vocoder folder to the vocoder menus (repeatable; "
                   "Griffin-Lim is always there)")  # fmt: skip
    p.add_argument("--lm", type=Path, default=None,
                   help="language-model folder for the 'Language model' tab "
                   "(OUT/model of 'synesthesia lm train')")  # fmt: skip
    p.add_argument("--face", type=Path, default=None,
                   help="Speech2Face folder for the 'Face' tab and the chain's last stage "
                   "(OUT/model of 'synesthesia face train'; default: the shipped model when the "
                   "package has one)")  # fmt: skip
    p.set_defaults(func=run)


def _vocoders(specs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs:
        name, _, folder = spec.rpartition("=") if "=" in spec else ("", "", spec)
        name = name or Path(folder).name
        if not Path(folder).is_dir():
            raise ParameterError(f"--vocoder={spec!r}: {folder!r} is not a model folder")
        if name == "griffin-lim" or name in out:
            raise ParameterError(f"--vocoder={spec!r}: the name {name!r} is taken; use NAME=DIR")
        out[name] = folder
    return out


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise ParameterError(f"--port={args.port} must be between 1 and 65535")
    if args.lm is not None and not args.lm.is_dir():
        raise ParameterError(f"--lm={str(args.lm)!r} is not a model folder")
    if args.face is not None and not args.face.is_dir():
        raise ParameterError(f"--face={str(args.face)!r} is not a model folder")
    vocoders = _vocoders(args.vocoder)
    from synesthesia.web.app import launch  # gradio: the 'web' extra

    workdir = Path(tempfile.mkdtemp(prefix="synesthesia_web_"))
    # a polite stop (kill, systemd, timeout) also removes the temporary folder
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    try:
        print(f"synesthesia: serving on http://{args.host}:{args.port} (Ctrl-C stops); "
              f"files in {workdir}", flush=True)  # fmt: skip
        launch(host=args.host, port=args.port, workdir=workdir, vocoders=vocoders, lm=args.lm,
               face=args.face)  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0
