"""Report layer: exporting answers (plots and the HTML report come later)."""

from bayesmmm.report._export import export_results

__all__ = ["export_results"]
