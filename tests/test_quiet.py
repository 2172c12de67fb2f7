"""No noise at the user: a fit on a fresh machine raises no warning, even under
``python -W error``; progress shows where the user is (a Rich bar in a terminal, a
widget bar in Jupyter, text lines otherwise) and a known third-party notice becomes
one note of ours."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bayesmmm.model import _progress, _quiet
from bayesmmm.model._progress import TextProgress, progress_display, progress_mode

#: A fit and its everyday answers, as a user's script would run them.
SCRIPT = """
import bayesmmm as bm
fit = bm.fit(bm.example_data(), bm.example_spec(), chains=2, warmup=60, draws=30)
fit.summary(); fit.roi(); fit.contributions(); fit.warnings(); fit.fit_metrics()
path = fit.save({path!r})
again = bm.load_fit(path)
again.summary(); again.idata
print("finished")
"""

#: A Jupyter kernel without ipywidgets, as tqdm and BayesMMM see one.
FAKE_KERNEL = """
import sys, types
class _Shell:
    config = {"IPKernelApp": {}}
_ipython = types.ModuleType("IPython")
_ipython.get_ipython = lambda: _Shell()
sys.modules["IPython"] = _ipython
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")
sys.modules["ipywidgets"] = None
"""


def _run(code: str, tmp_path: Path, action: str = "error") -> subprocess.CompletedProcess[str]:
    """``python -W error`` (or another warnings ``action``) on a machine seen for the
    first time: fresh caches (ArviZ's once-a-day notice, JAX's compilation cache)."""
    import matplotlib

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"),
           "BAYESMMM_CACHE_DIR": str(tmp_path / "cache" / "jax"),
           # matplotlib's font cache is the machine's, built once by matplotlib itself
           "MPLCONFIGDIR": matplotlib.get_cachedir(), "PYTHONWARNINGS": action}
    return subprocess.run([sys.executable, "-W", action, "-c", code], capture_output=True,
                          text=True, env=env, timeout=600)


def test_a_fit_on_a_fresh_machine_says_no_warning(tmp_path: Path) -> None:
    proc = _run(SCRIPT.format(path=str(tmp_path / "fit.nc")), tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("finished")
    # stderr holds the progress (text lines: no terminal here) and nothing else
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith("NUTS ") for line in lines), proc.stderr[-3000:]
    assert "Warning" not in proc.stderr


@pytest.mark.slow  # a fresh kernel fitting cold: ~30 s
def test_jupyter_without_ipywidgets_shows_text_and_one_note(tmp_path: Path) -> None:
    """Every warning shown (``-W always``: tqdm raises its own inside a try, which
    ``-W error`` would hide)."""
    code = FAKE_KERNEL + SCRIPT.format(path=str(tmp_path / "fit.nc"))
    proc = _run(code, tmp_path, "always")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr.strip() == "", proc.stderr[-3000:]  # no TqdmWarning, no Rich warning
    out = proc.stdout.splitlines()
    assert sum(line.startswith("note: ") for line in out) == 1
    assert any("pip install 'bayesmmm[notebook]'" in line for line in out)
    assert "NUTS sampling (2 chains): 30/30" in proc.stdout


def test_auto_chooses_the_display_by_where_it_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_progress, "in_jupyter", lambda: False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert progress_mode("auto") == progress_mode(True) == "rich"
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert progress_mode("auto") == "text"
    monkeypatch.setattr(_progress, "in_jupyter", lambda: True)
    monkeypatch.setattr(_progress, "_has_widgets", lambda: True)
    assert progress_mode("auto") == "widget"
    assert progress_mode(False) is None
    assert progress_mode(print) == "callback"
    assert progress_mode("text") == "text"
    with pytest.raises(ValueError, match="progress must be"):
        progress_mode("bar")


def test_text_progress_prints_a_few_lines() -> None:
    stream = io.StringIO()
    show = TextProgress(4, stream=stream)
    for done in range(0, 1001, 50):
        show("warmup", done, 1000)
    show("sampling", 1000, 1000)
    lines = stream.getvalue().splitlines()
    assert [line.split(" (")[0] for line in lines[:2]] == ["NUTS warmup", "NUTS warmup"]
    assert len(lines) == 6  # first report, each quarter, the sampling phase
    assert lines[-1].startswith("NUTS sampling (4 chains): 1000/1000")


def test_the_widget_bar_follows_the_phases(monkeypatch: pytest.MonkeyPatch) -> None:
    widgets = pytest.importorskip("ipywidgets")
    shown: list[object] = []
    monkeypatch.setattr("IPython.display.display", shown.append)
    with progress_display("widget", 2) as callback:
        assert callback is not None
        callback("warmup", 10, 100)
        callback("warmup", 100, 100)
        callback("sampling", 5, 50)
    (box,) = shown
    assert isinstance(box, widgets.VBox) and len(box.children) == 2
    warm, _ = box.children[0].children
    assert warm.value == 100 and warm.bar_style == "success"
    bar, label = box.children[1].children
    assert bar.value == 5 and bar.max == 50 and "NUTS sampling (2 chains)" in label.value


def test_a_note_is_said_once(capsys: pytest.CaptureFixture[str]) -> None:
    _quiet.note("something plain", key="test-note")
    _quiet.note("something plain", key="test-note")
    assert capsys.readouterr().err == "note: something plain\n"


def test_a_fit_reads_in_a_few_lines() -> None:
    import bayesmmm as bm

    fit = bm.load_fit(Path(__file__).parent / "model" / "fitfiles" / "geo_v2.nc")
    text = repr(fit)
    assert len(text) < 600 and len(text.splitlines()) == 5
    assert "52 weekly periods × 2 channels × 1 controls × 2 geos" in text
    assert "max r_hat" in text and "divergent draws" in text
    assert "<table>" in fit._repr_html_() and "geometric adstock" in fit._repr_html_()
