"""The layering of ARCHITECTURE.md, enforced: imports point one way.

errors/config/utils → functional → transforms, nn → models → io → text → data → metrics →
training, pipelines, viz, demos → cli. (ARCHITECTURE.md's middle band "metrics/io/data/text" is
ordered io < text < data < metrics: eSpeak bindings are io, phonemes and number spelling are
text, data sets and collate functions are data, and metrics may score data's transcripts.)

Every import counts: module level or lazy inside a function, absolute or relative
(``from ..data import x``), and ``importlib.import_module("synesthesia...")`` with a literal
name. Functional, transforms, nn and models never import lightning, yaml or argparse; only
training imports lightning; inference works without it.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "synesthesia"

RANK = {
    "errors": 0,
    "config": 0,
    "utils": 0,
    "functional": 1,
    "transforms": 2,
    "nn": 2,
    "models": 3,
    "io": 4,
    "text": 5,
    "data": 6,
    "metrics": 7,
    "training": 8,
    "pipelines": 8,
    "viz": 8,
    "demos": 8,
    "web": 9,
    "cli": 9,
    "__main__": 9,
}
LOW_LAYERS = {"functional", "transforms", "nn", "models"}
FORBIDDEN_IN_LOW = {"lightning", "pytorch_lightning", "yaml", "argparse"}
DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _package(path: Path) -> list[str]:
    """The dotted package a module's relative imports start from, as parts."""
    return ["synesthesia", *path.relative_to(SRC).parts[:-1]]


def _dynamic_name(node: ast.Call) -> str | None:
    """The module named by ``importlib.import_module(...)`` / ``__import__(...)``: a literal
    string, or the literal dotted prefix of an f-string (``f"synesthesia.cli.{name}"``)."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if name not in DYNAMIC_IMPORTERS or not node.args:
        return None
    arg = node.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values:
        head = arg.values[0]
        if isinstance(head, ast.Constant) and isinstance(head.value, str) and "." in head.value:
            return head.value.rsplit(".", 1)[0]
    return None


def _imports(source: str, package: list[str]) -> list[str]:
    """Every module (and ``module.name``) that ``source`` imports anywhere in its body."""
    tree = ast.parse(source)
    names = []
    for node in ast.walk(tree):  # walks into functions, classes, if/try blocks
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names.append(module)
            names += [f"{module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call) and (dynamic := _dynamic_name(node)):
            names.append(dynamic)
    return names


def _module_imports(path: Path) -> list[str]:
    return _imports(path.read_text(encoding="utf-8"), _package(path))


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def _upward(layer: str, names: list[str]) -> list[str]:
    bad = []
    for name in names:
        parts = name.split(".")
        if parts[0] == "synesthesia" and len(parts) > 1 and parts[1] in RANK:
            if RANK[parts[1]] > RANK[layer]:
                bad.append(name)
    return bad


def test_every_module_belongs_to_a_layer():
    unknown = {_layer(p) for p in _modules()} - set(RANK) - {"pretrained", "assets"}
    assert not unknown, f"modules outside the documented layers: {unknown}"


def test_middle_band_is_ordered():
    assert RANK["models"] < RANK["io"] < RANK["text"] < RANK["data"] < RANK["metrics"]
    assert RANK["metrics"] < min(RANK[k] for k in ("training", "pipelines", "viz", "demos"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_one_way(path: Path):
    layer = _layer(path)
    names = _module_imports(path)
    bad = _upward(layer, names)
    assert not bad, f"{path.name} ({layer}) imports higher layers: {bad}"
    for name in names:
        parts = name.split(".")
        if parts[0] == "synesthesia" and len(parts) > 1 and parts[1] == "training":
            assert layer in ("training", "cli"), f"{path.name} ({layer}) imports training"
        if layer in LOW_LAYERS:
            assert parts[0] not in FORBIDDEN_IN_LOW, f"{path.name} ({layer}) imports {name}"
        if layer != "training":
            assert parts[0] not in ("lightning", "pytorch_lightning"), (
                f"{path.name} ({layer}) imports {name}; only training/ may import lightning"
            )


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("def f():\n    from synesthesia.data.sentences import x\n", "synesthesia.data.sentences"),
        ("from ..data import sentences\n", "synesthesia.data.sentences"),
        ("from .. import data\n", "synesthesia.data"),
        ("from ..data.espeak import x\n", "synesthesia.data.espeak.x"),
        ("class A:\n    def f(self):\n        import synesthesia.data\n", "synesthesia.data"),
        ("try:\n    pass\nexcept ImportError:\n    from ..data import x\n", "synesthesia.data"),
        ("import importlib\nimportlib.import_module('synesthesia.data.x')\n", "synesthesia.data.x"),
        (
            "import importlib\nimportlib.import_module(f'synesthesia.data.{n}')\n",
            "synesthesia.data",
        ),
    ],
)
def test_checker_sees_lazy_relative_and_dynamic_imports(source: str, found: str):
    # as if the source were src/synesthesia/text/module.py: every form reaches data (upward)
    names = _imports(source, ["synesthesia", "text"])
    assert found in names
    assert _upward("text", names)


def test_moved_modules_keep_their_old_import_paths():
    # issue #21: eSpeak NG bindings are io, number spelling is text, collate is data
    assert importlib.import_module("synesthesia.data.espeak") is importlib.import_module(
        "synesthesia.io.espeak"
    )
    sentences = importlib.import_module("synesthesia.data.sentences")
    transcript = importlib.import_module("synesthesia.text.transcript")
    for name in ("number_to_words", "normalize_numbers", "transcript_words"):
        assert getattr(sentences, name) is getattr(transcript, name)
    data = importlib.import_module("synesthesia.data")
    assert (
        data.EspeakSynthesizer is importlib.import_module("synesthesia.io.espeak").EspeakSynthesizer
    )
    assert data.collate_tts is importlib.import_module("synesthesia.data.speech").collate_tts


def test_inference_layers_do_not_import_lightning():
    code = (
        "import sys, importlib, pkgutil, synesthesia\n"
        "for sub in ['functional','transforms','nn','models','metrics','io','data','text',"
        "'pipelines','viz','demos','web']:\n"
        "    pkg = importlib.import_module('synesthesia.' + sub)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('lightning','pytorch_lightning')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
