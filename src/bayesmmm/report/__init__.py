"""Report layer: exporting answers, plots (Plotly figures, PNG via matplotlib),
self-contained HTML pages of figures and the one-file HTML report of a fit."""

from bayesmmm.analysis import Check, Verdict, verdict
from bayesmmm.report._export import export_results, write_table, write_text
from bayesmmm.report._html import figures_html, write_figures_html
from bayesmmm.report._pdf import PdfError, find_chromium, write_pdf
from bayesmmm.report._plots_diag import (
    plot_data_prior_posterior,
    plot_data_rank,
    plot_data_trace,
    plot_prior_posterior,
    plot_rank,
    plot_trace,
)
from bayesmmm.report._plots_eda import (
    eda_figures,
    plot_correlation,
    plot_data_correlation,
    plot_data_outliers,
    plot_data_sales,
    plot_data_sales_vs_spend,
    plot_data_seasonality,
    plot_data_spend,
    plot_data_total_spend,
    plot_outliers,
    plot_sales,
    plot_sales_vs_spend,
    plot_seasonality,
    plot_spend,
    plot_total_spend,
)
from bayesmmm.report._plots_fit import (
    plot_actual_vs_fitted,
    plot_adstock,
    plot_contributions,
    plot_data_actual_vs_fitted,
    plot_data_adstock,
    plot_data_contributions,
    plot_data_roi,
    plot_data_saturation,
    plot_data_spend_vs_effect,
    plot_data_waterfall,
    plot_roi,
    plot_saturation,
    plot_spend_vs_effect,
    plot_waterfall,
)
from bayesmmm.report._plots_plan import plot_allocation, plot_data_allocation
from bayesmmm.report._png import IMAGE_FORMATS, image_format, to_matplotlib, write_image, write_png
from bayesmmm.report._registry import PLOTS, Plot, PlotRegistry, fit_figures
from bayesmmm.report._report import report_html, write_report

__all__ = ["export_results", "write_table", "write_text",
           # plots (docs/plots.md): plot_data_* gives a figure's numbers, plot_* the figure;
           # PLOTS lists them all by name
           "PLOTS", "Plot", "PlotRegistry",
           "eda_figures", "figures_html", "fit_figures", "plot_actual_vs_fitted",
           "plot_adstock", "plot_contributions", "plot_correlation",
           "plot_data_actual_vs_fitted", "plot_data_adstock", "plot_data_contributions",
           "plot_data_correlation", "plot_data_outliers", "plot_data_prior_posterior",
           "plot_data_rank", "plot_data_roi", "plot_data_sales", "plot_data_sales_vs_spend",
           "plot_data_saturation", "plot_data_seasonality", "plot_data_spend",
           "plot_data_spend_vs_effect", "plot_data_total_spend", "plot_data_trace",
           "plot_data_waterfall", "plot_outliers", "plot_prior_posterior", "plot_rank",
           "plot_roi", "plot_sales", "plot_sales_vs_spend", "plot_saturation",
           "plot_seasonality", "plot_spend", "plot_spend_vs_effect", "plot_total_spend",
           "plot_trace", "plot_waterfall", "to_matplotlib", "write_figures_html",
           "write_png", "IMAGE_FORMATS", "image_format", "write_image",
           "plot_allocation", "plot_data_allocation",
           # the HTML report of a fit (docs/report.md)
           "Check", "Verdict", "report_html", "verdict", "write_report",
           "PdfError", "find_chromium", "write_pdf"]
