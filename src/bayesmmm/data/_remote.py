"""Source URLs and the files behind them: what a URL's scheme says, the URL as it may
be shown (passwords and tokens masked), and downloads over HTTP(S) or fsspec.

Nothing here reads a table; :mod:`bayesmmm.data._sources` hands a downloaded file to
:func:`bayesmmm.data.load_table`, so a remote CSV is checked exactly as a local one.
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bayesmmm.errors import DataLoadError, SpecError

__all__ = ["FetchError", "file_name", "first_line", "fsspec_get", "http_get", "mask_url",
           "needs_package", "scheme_of", "scrub", "secrets_of"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")
#: Query parameters whose values are credentials (password=, token=, X-Amz-Signature=,
#: credentials_base64= ...): masked like a password.
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|key|signature|credential|auth|sig$", re.I)
#: user:password@ as SQLAlchemy parses it: the password runs to the last '@', so an
#: unencoded '/' in it does not end it as it ends urllib's network location.
_LOOSE_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://[^:/@]*:([^@]*)@")
_MASK = "***"
_CHUNK = 1 << 20


def scheme_of(source: str) -> str | None:
    """The lower-case scheme of a URL (``'s3'``, ``'postgresql+psycopg'``), or None for a
    path (``C:\\data.csv`` is a path: a scheme has two letters or more)."""
    match = _SCHEME.match(source)
    return match.group(1).lower() if match else None


def secrets_of(url: str) -> tuple[str, ...]:
    """Every secret spelled in ``url``: its password (as written and decoded), a bare
    user name of an HTTP URL (a token), and the values of credential query parameters."""
    parts = urllib.parse.urlsplit(url)
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at:
        user, colon, password = userinfo.partition(":")
        if colon:
            found.append(password)
        elif parts.scheme.lower() in ("http", "https"):
            found.append(user)
    loose = _LOOSE_PASSWORD.match(url)  # as SQLAlchemy reads it: a '/' in the password
    if loose and parts.scheme.lower() not in ("http", "https", "file"):
        found.append(loose.group(1))
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if _SECRET_KEY.search(key):
            found.append(value)
    decoded = [urllib.parse.unquote_plus(s) for s in found]
    return tuple(dict.fromkeys(s for s in [*found, *decoded] if s))


def mask_url(url: str) -> str:
    """``url`` with its secrets replaced by ``***``: ``postgresql://ana:***@db/sales``."""
    parts = urllib.parse.urlsplit(url)
    netloc = parts.netloc
    userinfo, at, host = netloc.rpartition("@")
    if at:
        user, colon, _ = userinfo.partition(":")
        if colon:
            netloc = f"{user}:{_MASK}@{host}"
        elif parts.scheme.lower() in ("http", "https"):
            netloc = f"{_MASK}@{host}"
    # Assembled by hand: urlunsplit would turn sqlite:///x.db into sqlite:/x.db.
    query = "&".join(_mask_pair(pair) for pair in parts.query.split("&"))
    return (f"{url.partition('://')[0]}://{netloc}{parts.path}" + (f"?{query}" if query else "")
            + (f"#{parts.fragment}" if parts.fragment else ""))


def _mask_pair(pair: str) -> str:
    key, eq, _ = pair.partition("=")
    return f"{key}={_MASK}" if eq and _SECRET_KEY.search(urllib.parse.unquote_plus(key)) \
        else pair


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` without any of ``secrets`` (longest first; a secret of under three
    characters would mask ordinary words, and the URL shown is masked anyway)."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= 3:
            text = text.replace(secret, _MASK)
    return text


def needs_package(what: str, module: str, *, extra: str | None = None,
                  pip: str | None = None) -> str:
    """The one-line message for a missing package, worded as
    :func:`bayesmmm._extras.missing_extra`'s (which the data layer may not import):
    the ``extra`` of BayesMMM that installs it, or else the ``pip`` requirement."""
    if extra:
        return (f"{what} needs {module} (the '{extra}' extra). Fix: pip install "
                f"'bayesmmm[{extra}]'")
    return f"{what} needs {module}. Fix: pip install {pip or module}"


def file_name(url: str, default: str = "data.csv") -> str:
    """The last segment of a URL's path, decoded and safe as a file name."""
    segment = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rstrip("/").rpartition("/")[2])
    cleaned = re.sub(r"[^\w.+-]", "_", segment).lstrip(".")
    return cleaned or default


class FetchError(Exception):
    """A download failed: ``status`` is the HTTP status (None: no answer), ``detail``
    one line saying what happened."""

    def __init__(self, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def http_get(url: str, dest: Path, *, headers: Mapping[str, str] | None = None,
             timeout: float = 60.0) -> None:
    """Download ``url`` into ``dest``. A user and password in the URL become Basic
    authentication; ``headers`` are sent as given. Neither goes along a redirect: a
    download link that points elsewhere (Kaggle's, to its storage) gets no credentials.

    Raises
    ------
    FetchError
        An HTTP error status, or no answer (unknown host, refused, timed out).
    """
    import urllib.error
    import urllib.request  # here: it costs importing bayesmmm.data ~10 ms

    parts = urllib.parse.urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    request = urllib.request.Request(urllib.parse.urlunsplit(parts._replace(netloc=host)))
    request.add_header("User-Agent", "bayesmmm")
    if at:
        user, _, password = userinfo.partition(":")
        token = f"{urllib.parse.unquote(user)}:{urllib.parse.unquote(password)}"
        request.add_unredirected_header(
            "Authorization", "Basic " + base64.b64encode(token.encode()).decode("ascii"))
    for name, value in (headers or {}).items():
        request.add_unredirected_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer, \
                dest.open("wb") as out:
            shutil.copyfileobj(answer, out, _CHUNK)
    except urllib.error.HTTPError as exc:
        raise FetchError(exc.code, f"HTTP {exc.code} {exc.reason}".strip()) from None
    except urllib.error.URLError as exc:
        raise FetchError(None, _no_answer(exc.reason, parts.hostname or "")) from None
    except TimeoutError:
        raise FetchError(None, f"no answer within {timeout:g} s") from None
    except (ConnectionError, OSError) as exc:  # the connection broke during the download
        raise FetchError(None, f"the download broke off ({exc})") from None


def _no_answer(reason: object, host: str) -> str:
    if isinstance(reason, socket.gaierror):
        return f"the host name '{host}' is unknown (DNS lookup failed)"
    if isinstance(reason, ConnectionRefusedError):
        return f"{host} refused the connection (nothing listens on that port)"
    if isinstance(reason, TimeoutError):
        return f"{host} did not answer in time"
    return str(getattr(reason, "strerror", None) or reason)


#: fsspec protocol -> (its package, how to give it credentials).
_STORES = {
    "s3": ("s3fs", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
                   "(~/.aws/credentials); a public bucket: anon=True"),
    "gs": ("gcsfs", "GOOGLE_APPLICATION_CREDENTIALS (a service-account key file) or "
                    "`gcloud auth application-default login`; a public bucket: token='anon'"),
    "az": ("adlfs", "AZURE_STORAGE_CONNECTION_STRING, or account_name= and account_key="),
}
_STORES.update({"s3a": _STORES["s3"], "gcs": _STORES["gs"], "abfs": _STORES["az"],
                "abfss": _STORES["az"]})


def fsspec_get(url: str, dest: Path, shown: str, options: Mapping[str, Any]) -> None:
    """Copy the file at an fsspec URL (``s3://``, ``gs://``, ``az://``, ``memory://``
    ...) into ``dest``; ``options`` are the file system's (``anon=True``, ``profile=``).

    Raises
    ------
    DataLoadError
        fsspec or the protocol's package is missing, the file is not there, access is
        refused, or the read failed; the message names the fix.
    SpecError
        An option the file system does not take.
    """
    try:
        import fsspec
    except ImportError:
        raise DataLoadError(needs_package(f"reading {shown}", "fsspec", extra="sources")
                            ) from None
    protocol = (scheme_of(url) or "").partition("+")[0]
    package, how = _STORES.get(protocol, (None, "the file system's credentials"))
    try:
        with fsspec.open(url, "rb", **options) as source, dest.open("wb") as out:
            shutil.copyfileobj(source, out, _CHUNK)
    except ImportError as exc:  # fsspec knows the protocol, its package is not installed
        module = package or exc.name or "the package of this protocol"
        raise DataLoadError(needs_package(f"reading {shown}", module)) from None
    except FileNotFoundError:
        raise DataLoadError(f"no file at {shown}. Fix: check the bucket and the path "
                            "(names are case-sensitive).") from None
    except IsADirectoryError:
        raise DataLoadError(f"{shown} is a folder, not a file. Fix: name the CSV or "
                            "Parquet file inside it.") from None
    except PermissionError as exc:
        raise DataLoadError(f"access to {shown} was refused ({first_line(exc)}). Fix: give "
                            f"credentials: {how}.") from None
    except TypeError as exc:  # an option the file system's constructor does not take
        raise SpecError(f"an option for {shown} was not accepted: {first_line(exc)}. Fix: pass "
                        "only the file system's own options (e.g. anon=True for "
                        "s3://).") from None
    except Exception as exc:  # the stores raise their own types (botocore, aiohttp ...)
        raise DataLoadError(f"could not read {shown}: {type(exc).__name__}: {first_line(exc)}. "
                            f"Fix: check the address and the credentials ({how}).") from None


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message."""
    text = str(exc).strip()
    return text.splitlines()[0].strip() if text else type(exc).__name__
