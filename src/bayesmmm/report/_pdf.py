"""A report as PDF: the HTML report printed by a headless Chromium.

The report is one self-contained page whose figures plotly.js draws in the browser, so
its faithful PDF is the browser's own print of it (the page has a print stylesheet:
A4, no navigation, no figure or table split across pages). Chromium is found as
``BAYESMMM_CHROMIUM``, or ``chromium`` / ``chromium-browser`` / ``google-chrome`` on the
PATH; without one, :func:`write_pdf` says how to get it and writes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from bayesmmm._files import atomic_write
from bayesmmm.errors import BayesMMMError

__all__ = ["PdfError", "find_chromium", "write_pdf"]

_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Milliseconds of (virtual) time the page gets to run its scripts before printing:
#: plotly.js draws every figure well within it.
SCRIPT_TIME_MS = 20_000


class PdfError(BayesMMMError):
    """No browser to print with, or the browser failed."""


def find_chromium() -> str | None:
    """The Chromium to print with: ``BAYESMMM_CHROMIUM`` or the first on the PATH."""
    chosen = os.environ.get("BAYESMMM_CHROMIUM")
    if chosen:
        return chosen if Path(chosen).is_file() else shutil.which(chosen)
    return next((found for name in _NAMES if (found := shutil.which(name))), None)


def write_pdf(html_file: str | Path, path: str | Path, *, chromium: str | None = None,
              timeout: float = 180.0) -> Path:
    """Print the HTML file ``html_file`` (a report) to the PDF ``path`` (atomically)."""
    exe = chromium or find_chromium()
    if exe is None:
        raise PdfError("writing a PDF needs Chromium, which is not installed here. Fix: "
                       "install it (Debian/Ubuntu: apt-get install chromium) or set "
                       "BAYESMMM_CHROMIUM to its path; or open the HTML report in a "
                       "browser and print it to PDF (it has a print layout)")
    source = Path(html_file).resolve()
    with tempfile.TemporaryDirectory(prefix="bayesmmm-pdf-") as scratch:
        printed = Path(scratch) / "report.pdf"
        command = [exe, "--headless", "--disable-gpu", "--no-first-run",
                   "--no-pdf-header-footer", f"--user-data-dir={Path(scratch) / 'profile'}",
                   f"--virtual-time-budget={SCRIPT_TIME_MS}", f"--print-to-pdf={printed}",
                   source.as_uri()]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to sandbox as root
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise PdfError(f"Chromium did not finish printing within {timeout:.0f} s; "
                           "nothing was written") from None
        except OSError as exc:
            raise PdfError(f"could not start Chromium ({exe}): {exc.strerror}") from None
        if done.returncode != 0 or not printed.is_file() or \
                printed.read_bytes()[:5] != b"%PDF-":
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise PdfError(f"Chromium could not print the report (exit {done.returncode}: "
                           f"{last}); nothing was written")
        data = printed.read_bytes()
    return atomic_write(Path(path), lambda p: p.write_bytes(data))
