"""The layers stay apart: Streamlit only in app.py and the pages' folder; figures that
only draw (no torch, no engine module); an engine usable with no Streamlit at all."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "vangrad_core"
FIGURES = ENGINE / "figures"


def imported_modules(path: Path, package: str | None = None) -> set[str]:
    """Every module a file imports, absolute (relative imports resolved against the
    file's package, or `package`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = package or ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module
            names.add(module)
    return names


def python_files(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*.py") if ".venv" not in p.parts]


# the tests drive the pages through Streamlit's AppTest; everything else stays out of it
OUTSIDE_THE_APP = python_files(ENGINE, ROOT / "bench", ROOT / "scripts")


def test_every_python_file_is_in_the_app_the_tests_or_checked_below():
    checked = {ROOT / "app.py", *python_files(ROOT / "views", ROOT / "tests"), *OUTSIDE_THE_APP}
    assert set(python_files(ROOT)) == checked


@pytest.mark.parametrize("path", OUTSIDE_THE_APP, ids=lambda p: str(p.relative_to(ROOT)))
def test_streamlit_only_in_the_app_and_its_pages(path):
    assert not any(m.split(".")[0] == "streamlit" for m in imported_modules(path))


# how a number is written: the one module outside figures/ they may import (it imports no other)
WRITING = "vangrad_core.writing"


@pytest.mark.parametrize("path", python_files(FIGURES), ids=lambda p: p.name)
def test_figures_only_draw(path):
    for module in imported_modules(path):
        assert module.split(".")[0] != "torch", f"{path.name} imports {module}"
        if module.startswith("vangrad_core"):
            assert module.startswith("vangrad_core.figures") or module == WRITING, (
                f"{path.name} imports the engine's {module}"
            )


def test_how_numbers_are_written_imports_only_the_standard_library():
    assert imported_modules(ENGINE / "writing.py") <= {"__future__", "math"}


def test_the_engine_imports_without_streamlit_and_trains_without_the_compiler():
    """One fresh process (each costs a torch import): the engine's modules import with
    any import of Streamlit failing; training runs of every optimizer, plain and
    recurrent, never imports torch._dynamo (seconds and 70 MB a process:
    trainer.Optimizer says why), where a torch.optim class's first step would, as the
    last lines check."""
    code = (
        "import sys; sys.modules['streamlit'] = None\n"  # any import of streamlit now fails
        "import vangrad_core, vangrad_core.experiments, vangrad_core.lessons, vangrad_core.live, "
        "vangrad_core.figures, vangrad_core.theory, vangrad_core.summary\n"
        "from vangrad_core import ExperimentConfig, Trainer\n"
        "from vangrad_core.recurrent import RecurrentConfig, RecurrentTrainer\n"
        "for optimizer in ('sgd', 'momentum', 'adam'):\n"
        "    Trainer(ExperimentConfig(depth=2, width=4, steps=2, optimizer=optimizer, grad_clip=1.0)).step(2)\n"
        "RecurrentTrainer(RecurrentConfig(length=5, hidden=4, steps=2, grad_clip=1.0)).step(2)\n"
        "assert 'torch._dynamo' not in sys.modules, 'training imported the compiler'\n"
        "import torch\n"
        "weight = torch.zeros(2, requires_grad=True)\n"
        "weight.sum().backward()\n"
        "torch.optim.SGD([weight], lr=0.1).step()\n"
        "assert 'torch._dynamo' in sys.modules, 'the check above could not fail'\n"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def test_the_layering_check_sees_a_violation(tmp_path):
    """The checks above can fail: a figure module importing torch or the engine is seen."""
    bad = tmp_path / "bad.py"
    bad.write_text("import torch\nfrom ..model import Network\nfrom .style import layout\n")
    assert imported_modules(bad, "vangrad_core.figures") == {
        "torch",
        "vangrad_core.model",
        "vangrad_core.figures.style",
    }
