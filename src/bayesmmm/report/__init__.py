"""Report layer: exporting answers (plots and the HTML report come later)."""

from bayesmmm.report._export import export_results, write_table, write_text

__all__ = ["export_results", "write_table", "write_text"]
