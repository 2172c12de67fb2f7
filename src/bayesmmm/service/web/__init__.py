"""The dashboard: one page with its scripts and styles, served beside the API."""

from bayesmmm.service.web._routes import CSP, WEB_DIR, mount

__all__ = ["CSP", "WEB_DIR", "mount"]
