"""Execute every example notebook end to end in quick mode (``pytest -m notebooks``).

Each notebook runs in a fresh ``python3`` kernel (jupyter_client starts it with the
interpreter running pytest), with ``examples/`` as its working directory and
``BAYESMMM_NOTEBOOK_QUICK=1``. They share one temporary output folder, in reading order,
so later notebooks reuse the data and fit of earlier ones as a user's would; each
notebook also rebuilds what it needs when it is missing (run one alone with ``-k``).
A failing cell fails the test with its source and traceback; so does any warning or
stderr text a reader would see (the library keeps third-party notices away), and the
fitting notebook must show the sampler's progress. The simulator notebook runs twice:
as a user with ipywidgets runs it (its simulator shows sliders), and with
``BAYESMMM_NO_WIDGETS=1`` (its simulator shows the static table of preset moves, as
where ipywidgets is missing). ``BAYESMMM_NOTEBOOK_EXECUTED=folder`` keeps the executed
notebooks there, outputs included.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.notebooks._notebooks import EXAMPLES, NOTEBOOKS, notebook_path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
from nbclient.exceptions import CellExecutionError  # noqa: E402

pytestmark = pytest.mark.notebooks

CELL_TIMEOUT_S = 600
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in IPython tracebacks
_WARNING = re.compile(r"\b[A-Za-z]*Warning: ")  # how Python shows a warning
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a widget's output


@pytest.fixture(scope="module")
def notebook_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Quick mode and a private output folder, set in this process so the kernels inherit
    them."""
    out = tmp_path_factory.mktemp("examples-output")
    saved = {k: os.environ.get(k) for k in ("BAYESMMM_NOTEBOOK_QUICK",
                                             "BAYESMMM_EXAMPLES_OUTPUT", "MPLBACKEND")}
    os.environ.update(BAYESMMM_NOTEBOOK_QUICK="1", BAYESMMM_EXAMPLES_OUTPUT=str(out),
                      MPLBACKEND="Agg")
    yield out
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _failure(name: str, nb: nbformat.NotebookNode, exc: CellExecutionError) -> str:
    """The failing cell's source and traceback (nbclient marks it with an error output)."""
    for index, cell in enumerate(nb.cells):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            tb = _ANSI.sub("", "\n".join(errors[0].get("traceback", [])))
            return (f"{name}.ipynb, cell {index} failed:\n--- source ---\n{cell.source}\n"
                    f"--- traceback ---\n{tb}")
    return f"{name}.ipynb failed: {exc}"


def _execute(nb: nbformat.NotebookNode, name: str) -> str | None:
    """Run ``nb`` in a fresh kernel in ``examples/``; the failure message, or None."""
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(EXAMPLES)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        return _failure(name, nb, exc)
    return None


def _outputs(nb: nbformat.NotebookNode) -> Iterator[tuple[int, dict, str]]:
    """``(cell index, output, its text)`` for every output of every code cell."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = output.get("text") or data.get("text/plain") or ""
            yield index, output, text if isinstance(text, str) else "".join(text)


def noise(nb: nbformat.NotebookNode) -> list[str]:
    """What a reader would take for a warning: stderr streams and Python warnings
    (``FutureWarning: ...``; our validation reports' "Warnings (fit allowed)" are
    answers, not noise)."""
    found = []
    for index, output, text in _outputs(nb):
        if output.get("name") == "stderr" or _WARNING.search(text):
            found.append(f"cell {index}: {text[:400]}")
    return found


def shows_progress(nb: nbformat.NotebookNode) -> bool:
    """A widget bar (ipywidgets installed) or the text lines of ``progress="auto"``."""
    return any(WIDGET_VIEW in output.get("data", {})
               or "NUTS sampling" in text for _, output, text in _outputs(nb))


def simulator_shows(nb: nbformat.NotebookNode) -> str | None:
    """What the cell that calls ``simulator(`` shows: ``"sliders"`` (a widget),
    ``"table"`` (the preset moves under the note saying why), or None (neither)."""
    for cell in nb.cells:
        if cell.cell_type != "code" or "simulator(" not in cell.source:
            continue
        outputs = cell.get("outputs", [])
        if any(WIDGET_VIEW in o.get("data", {}) for o in outputs):
            return "sliders"
        if any("note: showing preset moves instead of sliders" in
               "".join(o.get("data", {}).get("text/plain", "")) for o in outputs):
            return "table"
    return None


#: Every notebook as a user runs it, and the simulator once more without widgets.
RUNS = [*(pytest.param(name, {}, id=name) for name in NOTEBOOKS),
        pytest.param("06_simulator", {"BAYESMMM_NO_WIDGETS": "1"},
                     id="06_simulator-no-widgets")]


@pytest.mark.parametrize(("name", "env"), RUNS)
def test_notebook_runs(name: str, env: dict[str, str], notebook_env: Path,
                       monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env.items():  # the kernel inherits this process's environment
        monkeypatch.setenv(key, value)
    nb = nbformat.read(notebook_path(name), as_version=4)
    started = time.perf_counter()
    failure = _execute(nb, name)
    keep = os.environ.get("BAYESMMM_NOTEBOOK_EXECUTED")
    label = name + ("-no-widgets" if env else "")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, Path(keep) / f"{label}.ipynb")
    if failure:
        pytest.fail(failure, pytrace=False)
    print(f"{label}: {time.perf_counter() - started:.1f} s")
    assert noise(nb) == [], f"{label}.ipynb shows warnings or stderr text"
    if name == "04_fit_and_checks":  # the first notebook that fits
        assert shows_progress(nb), "the fit showed no progress"
    if name == "06_simulator":
        shown = simulator_shows(nb)
        assert shown == ("table" if env else "sliders"), f"{label}: the simulator showed {shown}"


def test_a_failing_cell_is_reported_with_its_source_and_traceback(notebook_env: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("import _shared  # the helper imports from examples/\n"
                                  "raise ValueError(f'broken cell {x}')"),
    ])
    failure = _execute(nb, "broken")
    assert failure is not None
    assert "broken.ipynb, cell 1 failed" in failure
    assert "raise ValueError(f'broken cell {x}')" in failure  # the source
    assert "ValueError: broken cell 1" in failure  # the traceback, without colour codes
    assert "\x1b[" not in failure
