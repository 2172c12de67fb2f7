"""Fast checks of the committed notebooks (default suite): they exist, are valid, carry
no outputs and have a tagged parameters cell that reads the quick-mode switch."""

from __future__ import annotations

import nbformat
import pytest

from tests.notebooks._notebooks import EXAMPLES, NOTEBOOKS, notebook_path


def test_the_six_notebooks_and_nothing_else() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebook_is_stripped_and_parametrised(name: str) -> None:
    nb = nbformat.read(notebook_path(name), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    dirty = [i for i, c in enumerate(code) if c.outputs or c.execution_count is not None]
    assert not dirty, f"{name}: code cells {dirty} keep outputs; clear them before committing"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{name}: want exactly one code cell tagged 'parameters'"
    assert "BAYESMMM_NOTEBOOK_QUICK" in tagged[0].source, \
        f"{name}: the parameters cell must read BAYESMMM_NOTEBOOK_QUICK"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# "), \
        f"{name}: start with a markdown title"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"
