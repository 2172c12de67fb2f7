"""The assistant layer: BayesMMM's MCP server (``bayesmmm mcp``; docs/assistant.md).

Curated tools over the service's public REST API, for an AI assistant: list_sources
(the data sources the service's operator named), validate_data,
start_fit, get_status, cancel_fit, get_summary, get_contributions, get_roi,
get_response_curves, get_diagnostics, get_plot (PNG), and the planning tools
optimize_budget, what_if and compare_scenarios, which refuse a fit whose verdict is
"do not use" unless explicitly overridden. Prompts carry the analysis workflow;
resources give a task's results by URI. Every answer states its units and interval.

It runs over stdio or streamable HTTP, against a local service it starts
(:class:`LocalService`) or a remote one by URL and API key. Needs the ``mcp`` extra
(``pip install 'bayesmmm[mcp]'``).

Modules: ``_client`` (the REST client, data given as a path, link or CSV text),
``_local`` (the local service), ``_fits`` (fit files and their verdicts), ``_shape``
(aggregation, paging, PNG), ``_answer`` (answers and errors), ``_tools_data``,
``_tools_results``, ``_tools_plan`` (the tools), ``_prompts`` (instructions, prompts,
resources) and ``_server`` (assembly and ``serve``).
"""

from bayesmmm.mcp._client import ServiceClient, ServiceError
from bayesmmm.mcp._local import LocalService
from bayesmmm.mcp._server import build_server, serve

__all__ = ["LocalService", "ServiceClient", "ServiceError", "build_server", "serve"]
