"""The layering of ARCHITECTURE.md, enforced: imports point one way.

errors/config/utils → functional → transforms, nn → models → metrics, io, data, text →
training, pipelines, viz, demos → cli. Functional, transforms, nn and models never import
lightning, yaml or argparse; only training imports lightning; inference works without it.
"""

from __future__ import annotations

import ast
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
    "metrics": 4,
    "io": 4,
    "data": 4,
    "text": 4,
    "training": 5,
    "pipelines": 5,
    "viz": 5,
    "demos": 5,
    "cli": 6,
    "__main__": 6,
}
LOW_LAYERS = {"functional", "transforms", "nn", "models"}
FORBIDDEN_IN_LOW = {"lightning", "pytorch_lightning", "yaml", "argparse"}


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names += [f"{node.module}.{a.name}" for a in node.names]
    return names


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p != SRC / "__init__.py")


def test_every_module_belongs_to_a_layer():
    unknown = {_layer(p) for p in _modules()} - set(RANK) - {"pretrained", "assets"}
    assert not unknown, f"modules outside the documented layers: {unknown}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_one_way(path: Path):
    layer = _layer(path)
    rank = RANK[layer]
    for name in _imports(path):
        parts = name.split(".")
        if parts[0] == "synesthesia" and len(parts) > 1 and parts[1] in RANK:
            target = parts[1]
            assert RANK[target] <= rank, f"{path.name} ({layer}) imports higher layer {name}"
            if target == "training":
                assert layer in ("training", "cli"), f"{path.name} ({layer}) imports training"
        if layer in LOW_LAYERS:
            assert parts[0] not in FORBIDDEN_IN_LOW, f"{path.name} ({layer}) imports {name}"
        if layer != "training":
            assert parts[0] not in ("lightning", "pytorch_lightning"), (
                f"{path.name} ({layer}) imports {name}; only training/ may import lightning"
            )


def test_inference_layers_do_not_import_lightning():
    code = (
        "import sys, importlib, pkgutil, synesthesia\n"
        "for sub in ['functional','transforms','nn','models','metrics','io','data','text',"
        "'pipelines','viz','demos']:\n"
        "    pkg = importlib.import_module('synesthesia.' + sub)\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('lightning','pytorch_lightning')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
