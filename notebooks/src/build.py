"""Build the analyst notebooks from their cell sources (kept here as plain Python lists).

Run `python notebooks/src/build.py NAME` then execute the notebook with nbconvert to
store its outputs (nbval compares them on every test run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def build(name: str) -> Path:
    spec: dict = {}
    exec((HERE / f"{name}.py").read_text(), spec)
    cells = []
    for kind, text in spec["CELLS"]:
        text = text.strip("\n")
        cells.append(new_markdown_cell(text) if kind == "md" else new_code_cell(text))
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    })
    out = HERE.parent / f"{name}.ipynb"
    nbformat.write(nb, out)
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(build(arg))
