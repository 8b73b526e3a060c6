"""``synesthesia lm``: train a GPT language model on a text file, and sample from it.

``lm train`` imports Lightning (lazily, inside the command); ``lm generate`` never does: it
loads the exported model folder (config.json + model.safetensors + tokenizer.json).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from synesthesia.cli._checks import check_vocabulary
from synesthesia.cli._train import add_train_command, shown
from synesthesia.errors import ParameterError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "lm",
        help="train a GPT language model on a text file, or generate text with one",
        description="Train a decoder-only Transformer (GPT) language model on a text file "
        "with Lightning (checkpoints, automatic resume, CSV/TensorBoard logs, multi-GPU), "
        "or sample text from an exported model folder.",
    )
    lm_sub = p.add_subparsers(dest="lm_command", metavar="ACTION", required=True)

    add_train_command(
        lm_sub,
        "synesthesia.training.lm:LM_TASK",
        help="train on a text file and export OUT/model",
        description="Train a language model on --text FILE. Writes OUT/checkpoints "
        "(last.ckpt, best-step=N.ckpt), OUT/logs (csv, tensorboard) and the exported model "
        "folder OUT/model (config.json, model.safetensors, tokenizer.json). If "
        "OUT/checkpoints/last.ckpt exists the run resumes from it (see --resume). "
        "Multi-GPU: --set trainer.devices=4 trainer.strategy=ddp.",
        add_arguments=lambda t: t.add_argument(
            "--text", required=True, type=Path, help="UTF-8 training text file"
        ),
        config_help="YAML config (default: built-in defaults, the same as configs/lm/tiny.yaml)",
        overrides_example="optim.lr=1e-3 trainer.devices=2",
        check=_check_text,
        configure=_configure,
        report=_report,
    )

    g = lm_sub.add_parser(
        "generate",
        help="sample a continuation of a prompt from an exported model folder",
        description="Load an exported model folder (no Lightning needed) and print the "
        "prompt followed by its sampled continuation.",
    )
    g.add_argument("--model", required=True, type=Path, help="exported model folder")
    g.add_argument(
        "--prompt",
        required=True,
        help="text to continue (non-empty; only characters of the model's vocabulary)",
    )
    g.add_argument(
        "--max-new-tokens", type=int, default=200, help="tokens to generate (default 200)"
    )
    g.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="softmax temperature; 0 = greedy (default 1.0)",
    )
    g.add_argument("--top-k", type=int, default=None, help="sample among the K likeliest")
    g.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    g.set_defaults(func=generate)


def _check_text(args: argparse.Namespace) -> None:
    from synesthesia.training.lm import read_text

    read_text(args.text)  # a missing or empty file fails before Lightning starts


def _configure(config: dict, args: argparse.Namespace) -> None:
    config["data"]["text_path"] = str(args.text)


def _report(result) -> list[str]:
    best = "" if result.best_score is None else f" (best {result.best_score:.4f})"
    return [
        f"trained {result.global_step} steps; val/loss "
        f"{shown(result.metrics.get('val/loss'), '.4f')}{best}",
        f"model: {result.model_dir}",
        f"checkpoints: {result.last_checkpoint.parent}",
    ]


def generate(args: argparse.Namespace) -> int:
    from synesthesia.pipelines.lm import TextGenerator

    if not args.prompt:
        raise ParameterError("--prompt='' must be non-empty text")
    if args.max_new_tokens < 0:
        raise ParameterError(f"--max-new-tokens={args.max_new_tokens} must be >= 0")
    lm = TextGenerator.from_pretrained(args.model, flag="--model")
    check_vocabulary(args.prompt, lm.tokenizer, flag="--prompt")
    text = lm.generate(
        args.prompt,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        seed=args.seed,
    )
    print(text)
    return 0
