"""Service configuration: every setting has a default, and a ``BAYESMMM_*`` variable."""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bayesmmm.service._errors import ConfigError
from bayesmmm.service._sources import NamedSource, load_sources

__all__ = ["Settings", "IPNetwork", "default_home"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_POLICIES = ("retry", "fail")
_ESTIMATES = ("auto", "always", "never")


def default_home() -> Path:
    """Where the default database and artifacts live: ``BAYESMMM_HOME``, else
    ``$XDG_DATA_HOME/bayesmmm`` (``~/.local/share/bayesmmm``)."""
    if os.environ.get("BAYESMMM_HOME"):
        return Path(os.environ["BAYESMMM_HOME"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bayesmmm"


def _default_instance() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Settings:
    """How the service stores, runs and guards jobs.

    Parameters
    ----------
    database_url : str
        SQLAlchemy URL of the job store (``BAYESMMM_DATABASE_URL``); default a SQLite
        file ``service.db`` in :func:`default_home`. ``postgresql://...`` uses psycopg 3.
    artifacts : str
        Folder or fsspec URL for inputs and fitted posteriors (``BAYESMMM_ARTIFACTS``);
        default ``artifacts/`` in :func:`default_home`.
    dask_scheduler : str or None
        Address of an existing Dask scheduler (``BAYESMMM_DASK_SCHEDULER``, e.g.
        ``tcp://10.0.0.5:8786``); None starts an embedded ``LocalCluster``.
    dask_workers, dask_threads : int
        Worker processes of the embedded cluster and threads per worker
        (``BAYESMMM_DASK_WORKERS``, ``BAYESMMM_DASK_THREADS``; 1 and 1: one fit at a
        time, using every core).
    api_keys : tuple of str
        Accepted API keys (``BAYESMMM_API_KEYS``, comma-separated); empty: no keys
        needed. Each key sees only the tasks it started.
    max_upload_bytes : int
        Largest data file accepted, uploaded or downloaded (``BAYESMMM_MAX_UPLOAD_MB``,
        default 50 MB).
    download_timeout : float
        Seconds a ``download_link`` may take in all (``BAYESMMM_DOWNLOAD_TIMEOUT``, 30).
    download_allow : tuple of networks, or "all"
        Private, loopback or link-local networks that ``download_link`` may reach anyway
        (``BAYESMMM_DOWNLOAD_ALLOW``, comma-separated CIDRs, or ``all``); default none.
    on_worker_loss : {"retry", "fail"}
        What happens to a fit whose worker dies (``BAYESMMM_ON_WORKER_LOSS``, retry).
    max_attempts : int
        Runs a job may start before it is failed (``BAYESMMM_MAX_ATTEMPTS``, 3).
    lease_seconds : float
        A server renews its claim on the jobs it runs this often x 3; a claim not renewed
        for this long (a server died) is taken over (``BAYESMMM_LEASE_SECONDS``, 30).
    max_in_flight : int
        Jobs one server hands to Dask at once; the rest wait in the store
        (``BAYESMMM_MAX_IN_FLIGHT``, 32).
    instance : str
        This server's name in job leases (``BAYESMMM_INSTANCE``); a server restarted
        under the same name takes back its jobs at once instead of after a lease.
    public_url : str or None
        Base URL written into the OpenAPI document's ``servers`` (``BAYESMMM_PUBLIC_URL``),
        for assistants that call the API.
    secret : str
        Server secret that keys the hash under which API keys' tasks are stored
        (``BAYESMMM_SECRET``); empty: read from (or created in) the file ``secret``
        (mode 0600) beside the default database. Servers sharing a database need the
        same secret.
    plan_timeout : float
        Seconds a planning question (optimize, what-if, scenarios, response curves) may
        take on a worker before it answers 504 (``BAYESMMM_PLAN_TIMEOUT``, 300).
    store_timeout : float
        Seconds a write waits for another writer of a SQLite store before it answers
        503 (``BAYESMMM_STORE_TIMEOUT``, 30).
    estimate_time : {"auto", "always", "never"}
        Whether a worker times a short pilot chain on the data before each NUTS fit, to
        report how long the fit will take (``BAYESMMM_ESTIMATE_TIME``, auto): ``auto``
        when the fit is at least ten times the pilot's length (the defaults are), so
        that tiny fits do not pay a pilot as long as themselves.
    sources_file : str
        A TOML or JSON file of data sources users may read by name
        (``BAYESMMM_SOURCES_FILE``; docs/service.md, "Named data sources"): per name, a
        ``url`` (a database, https://, s3:// or a local path), a ``description``, the
        ``tables`` users may read whole, whether they may send their own SELECT
        (``queries``, default false) or the one ``query`` they read, and ``options`` for
        :func:`bayesmmm.data.read_source`. Read and checked here, at start-up.
    sources : tuple of NamedSource
        The sources of ``sources_file`` (or given directly, e.g. from
        :func:`bayesmmm.service._sources.parse_sources`); default none: users upload
        files or send links. Their URLs and credentials never leave the server.
    """

    database_url: str = ""
    artifacts: str = ""
    dask_scheduler: str | None = None
    dask_workers: int = 1
    dask_threads: int = 1
    api_keys: tuple[str, ...] = ()
    max_upload_bytes: int = 50 * 1024 * 1024
    download_timeout: float = 30.0
    download_allow: tuple[IPNetwork, ...] | str = ()
    on_worker_loss: str = "retry"
    max_attempts: int = 3
    lease_seconds: float = 30.0
    max_in_flight: int = 32
    instance: str = field(default_factory=_default_instance)
    public_url: str | None = None
    secret: str = field(default="", repr=False)
    plan_timeout: float = 300.0
    store_timeout: float = 30.0
    estimate_time: str = "auto"
    sources_file: str = ""
    sources: tuple[NamedSource, ...] = field(default=(), repr=False)

    def __post_init__(self) -> None:
        home = default_home()
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{home / 'service.db'}")
        if not self.artifacts:
            object.__setattr__(self, "artifacts", str(home / "artifacts"))
        if self.on_worker_loss not in _POLICIES:
            raise ConfigError(f"BAYESMMM_ON_WORKER_LOSS must be one of {list(_POLICIES)}, "
                              f"got {self.on_worker_loss!r}")
        if self.estimate_time not in _ESTIMATES:
            raise ConfigError(f"BAYESMMM_ESTIMATE_TIME must be one of {list(_ESTIMATES)}, "
                              f"got {self.estimate_time!r}. Fix: unset it (auto)")
        for name in ("dask_workers", "dask_threads", "max_attempts", "max_in_flight",
                     "max_upload_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")
        for name in ("download_timeout", "lease_seconds", "plan_timeout", "store_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be > 0 seconds, got {getattr(self, name)!r}")
        if isinstance(self.download_allow, str) and self.download_allow != "all":
            object.__setattr__(self, "download_allow", parse_networks(self.download_allow))
        if self.sources_file:
            object.__setattr__(self, "sources", load_sources(self.sources_file))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``BAYESMMM_*`` variables; keyword arguments win over them."""
        env = os.environ if environ is None else environ
        kw: dict[str, Any] = {}
        text = {"database_url": "DATABASE_URL", "artifacts": "ARTIFACTS",
                "dask_scheduler": "DASK_SCHEDULER", "instance": "INSTANCE",
                "public_url": "PUBLIC_URL", "on_worker_loss": "ON_WORKER_LOSS",
                "secret": "SECRET", "estimate_time": "ESTIMATE_TIME",
                "sources_file": "SOURCES_FILE"}
        for name, var in text.items():
            if env.get(f"BAYESMMM_{var}"):
                kw[name] = env[f"BAYESMMM_{var}"].strip()
        numbers = {"dask_workers": ("DASK_WORKERS", int), "dask_threads": ("DASK_THREADS", int),
                   "max_attempts": ("MAX_ATTEMPTS", int),
                   "max_in_flight": ("MAX_IN_FLIGHT", int),
                   "download_timeout": ("DOWNLOAD_TIMEOUT", float),
                   "lease_seconds": ("LEASE_SECONDS", float),
                   "plan_timeout": ("PLAN_TIMEOUT", float),
                   "store_timeout": ("STORE_TIMEOUT", float)}
        for name, (var, kind) in numbers.items():
            if env.get(f"BAYESMMM_{var}"):
                kw[name] = _number(f"BAYESMMM_{var}", env[f"BAYESMMM_{var}"], kind)
        if env.get("BAYESMMM_MAX_UPLOAD_MB"):
            mb = _number("BAYESMMM_MAX_UPLOAD_MB", env["BAYESMMM_MAX_UPLOAD_MB"], float)
            kw["max_upload_bytes"] = max(1, int(mb * 1024 * 1024))
        if env.get("BAYESMMM_API_KEYS"):
            kw["api_keys"] = tuple(k.strip() for k in env["BAYESMMM_API_KEYS"].split(",")
                                   if k.strip())
        if env.get("BAYESMMM_DOWNLOAD_ALLOW"):
            kw["download_allow"] = env["BAYESMMM_DOWNLOAD_ALLOW"].strip()
        kw.update(overrides)
        return cls(**kw)

    def server_secret(self) -> bytes:
        """The secret that keys API key hashes: :attr:`secret`, else the file ``secret``
        beside a SQLite database (or in :func:`default_home`), created with 32 random
        bytes and mode 0600 on first use."""
        if self.secret:
            return self.secret.encode()
        folder = default_home()
        if self.database_url.startswith("sqlite:///") and "?" not in self.database_url:
            folder = Path(self.database_url[len("sqlite:///"):]).expanduser().parent
        path = folder / "secret"
        try:
            return path.read_bytes().strip() or _new_secret(path)
        except FileNotFoundError:
            return _new_secret(path)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)


def _new_secret(path: Path) -> bytes:
    import secrets

    secret = secrets.token_hex(32).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server made it meanwhile
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
    return secret


def _number(var: str, value: str, kind: type) -> Any:
    try:
        return kind(value)
    except ValueError:
        raise ConfigError(f"{var} must be a number, got {value!r}") from None


def parse_networks(text: str) -> tuple[IPNetwork, ...]:
    """``"127.0.0.1/32, 10.0.0.0/8"`` -> networks; a bare address is a /32 (or /128)."""
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"BAYESMMM_DOWNLOAD_ALLOW: {item!r} is not an address or "
                              "network (e.g. 10.0.0.0/8), nor 'all'") from None
    return tuple(out)
