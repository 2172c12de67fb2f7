"""Kaggle datasets: ``kaggle://OWNER/DATASET[/FILE]`` downloaded with the user's API key
through Kaggle's public REST API (``GET /datasets/download/...`` with Basic
authentication), the same endpoint the ``kaggle`` command calls.

The ``kaggle`` package itself is not used: importing it signs in (and may exit the
process or print a sign-in guide), it creates a configuration folder, it prints to
standard output on every download, and its host cannot be changed, so it could not be
tested offline. ``BAYESMMM_KAGGLE_URL`` points the download at another base URL (tests
run a stand-in server).
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import urllib.parse
import zipfile
from pathlib import Path

from bayesmmm.data._remote import FetchError, http_get
from bayesmmm.errors import DataLoadError, SpecError

__all__ = ["KAGGLE_URL", "fetch_kaggle"]

#: Kaggle's public API; ``BAYESMMM_KAGGLE_URL`` overrides it.
KAGGLE_URL = "https://www.kaggle.com/api/v1"
_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_TABLES = (".csv", ".csv.gz", ".parquet", ".pq")
_SETUP = ("set KAGGLE_USERNAME and KAGGLE_KEY to your user name and API key, or save "
          "kaggle.json (kaggle.com > Settings > API > Create New Token) as "
          "~/.kaggle/kaggle.json with chmod 600")


def fetch_kaggle(url: str, folder: Path, *, timeout: float = 120.0) -> Path:
    """Download the table of ``kaggle://OWNER/DATASET[/FILE]`` into ``folder``.

    Without FILE, the dataset must hold exactly one CSV or Parquet file. A file Kaggle
    sends zipped is unpacked.

    Returns
    -------
    Path
        The downloaded table, under its own name.

    Raises
    ------
    SpecError
        The URL is not ``kaggle://OWNER/DATASET[/FILE]``.
    DataLoadError
        No or refused credentials (which, and how to set them), no such dataset or
        file (with the files there are), several tables to choose from, or Kaggle
        could not be reached.
    """
    owner, dataset, file = _parse(url)
    user, key, where = credentials()
    base = os.environ.get("BAYESMMM_KAGGLE_URL", KAGGLE_URL).rstrip("/")
    ref = f"{owner}/{dataset}"
    address = f"{base}/datasets/download/{_quote(owner)}/{_quote(dataset)}"
    if file:
        address += "/" + urllib.parse.quote(file)
    auth = {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}
    download = folder / "kaggle-download"
    try:
        http_get(address, download, headers=auth, timeout=timeout)
    except FetchError as exc:
        raise DataLoadError(_refusal(exc, ref, file, user, where, base, auth, timeout)) \
            from None
    return _unpack(download, folder, ref, file)


def _parse(url: str) -> tuple[str, str, str]:
    parts = urllib.parse.urlsplit(url)
    owner = urllib.parse.unquote(parts.netloc)
    dataset, _, file = urllib.parse.unquote(parts.path).lstrip("/").partition("/")
    if not (_SLUG.fullmatch(owner) and _SLUG.fullmatch(dataset)) or parts.query:
        raise SpecError(f"'{url}' is not a Kaggle dataset address. Fix: write it as "
                        "kaggle://OWNER/DATASET or kaggle://OWNER/DATASET/FILE.csv, as in "
                        "kaggle.com/datasets/OWNER/DATASET.")
    return owner, dataset, file.strip("/")


def credentials() -> tuple[str, str, str]:
    """``(user, key, where they came from)``: ``KAGGLE_USERNAME`` and ``KAGGLE_KEY``, else
    ``kaggle.json`` in ``KAGGLE_CONFIG_DIR``, ``~/.kaggle`` or ``~/.config/kaggle`` (the
    places the ``kaggle`` command reads)."""
    user, key = os.environ.get("KAGGLE_USERNAME"), os.environ.get("KAGGLE_KEY")
    if user and key:
        return user, key, "KAGGLE_USERNAME and KAGGLE_KEY"
    if user or key:
        have, lack = (("KAGGLE_USERNAME", "KAGGLE_KEY") if user else
                      ("KAGGLE_KEY", "KAGGLE_USERNAME"))
        raise DataLoadError(f"{have} is set but {lack} is not. Fix: set both (the user name "
                            "and the key from kaggle.json), or unset both to use kaggle.json.")
    for path in _config_files():
        if path.is_file():
            return _read_config(path)
    token = (" KAGGLE_API_TOKEN is set, but downloads use the user name and API key."
             if os.environ.get("KAGGLE_API_TOKEN") else "")
    raise DataLoadError(f"kaggle:// sources need your Kaggle API credentials and none were "
                        f"found.{token} Fix: {_SETUP}.")


def _config_files() -> list[Path]:
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        return [Path(os.environ["KAGGLE_CONFIG_DIR"]) / "kaggle.json"]
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return [Path.home() / ".kaggle" / "kaggle.json", xdg / "kaggle" / "kaggle.json"]


def _read_config(path: Path) -> tuple[str, str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataLoadError(f"the Kaggle credentials file '{path}' could not be read "
                            f"({type(exc).__name__}). Fix: download kaggle.json again "
                            "(kaggle.com > Settings > API > Create New Token).") from None
    if not isinstance(data, dict) or not data.get("username") or not data.get("key"):
        raise DataLoadError(f"the Kaggle credentials file '{path}' lacks \"username\" or "
                            "\"key\". Fix: download kaggle.json again (kaggle.com > Settings "
                            "> API > Create New Token).")
    return str(data["username"]), str(data["key"]), f"'{path}'"


def _quote(slug: str) -> str:
    return urllib.parse.quote(slug, safe="")


def _refusal(exc: FetchError, ref: str, file: str, user: str, where: str, base: str,
             auth: dict[str, str], timeout: float) -> str:
    """The message for a failed download: what Kaggle said, in terms of what to do."""
    target = f"file '{file}' of dataset {ref}" if file else f"dataset {ref}"
    if exc.status == 401:
        return (f"Kaggle refused the credentials of user '{user}' (from {where}): "
                f"{exc.detail}. Fix: create a new API token (kaggle.com > Settings > API) "
                f"and {_SETUP.partition(' or save')[0]}, or replace kaggle.json.")
    if exc.status == 403:
        return (f"Kaggle refused '{user}' access to {target} ({exc.detail}): the dataset is "
                "private, or its rules must be accepted first. Fix: open "
                f"https://www.kaggle.com/datasets/{ref} signed in as '{user}' and accept "
                "them.")
    if exc.status == 404:
        files = _files(base, ref, auth, timeout) if file else None
        if files is not None:
            return (f"dataset {ref} on Kaggle has no file '{file}'; its files: "
                    f"{', '.join(files[:20]) or 'none'}. Fix: kaggle://{ref}/"
                    f"{files[0] if files else 'FILE'}")
        return (f"Kaggle has no dataset {ref} that '{user}' may see ({exc.detail}). Fix: copy "
                "OWNER/DATASET from the dataset's address, kaggle.com/datasets/OWNER/DATASET.")
    if exc.status == 429:
        return f"Kaggle is rate-limiting downloads ({exc.detail}). Fix: try again in a minute."
    if exc.status is not None:
        return f"Kaggle answered {exc.detail} for {target}. Fix: try again later."
    host = urllib.parse.urlsplit(base).netloc
    return (f"cannot reach Kaggle at {host}: {exc.detail}. Fix: check the internet "
            "connection (and BAYESMMM_KAGGLE_URL, if set).")


def _files(base: str, ref: str, auth: dict[str, str], timeout: float) -> list[str] | None:
    """The dataset's file names (``GET /datasets/list/OWNER/DATASET``), or None when the
    dataset itself is not there or the listing fails."""
    owner, _, dataset = ref.partition("/")
    with tempfile.TemporaryDirectory(prefix="bayesmmm-kaggle-") as tmp:
        listing = Path(tmp) / "files.json"
        try:
            http_get(f"{base}/datasets/list/{_quote(owner)}/{_quote(dataset)}", listing,
                     headers=auth, timeout=timeout)
            data = json.loads(listing.read_text(encoding="utf-8"))
        except (FetchError, OSError, ValueError):
            return None
    entries = data.get("datasetFiles") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    return [str(e["name"]) for e in entries if isinstance(e, dict) and e.get("name")]


def _unpack(download: Path, folder: Path, ref: str, file: str) -> Path:
    """The table inside the download: the file itself, or the one member of the zip
    Kaggle sends (a whole dataset, or a large file zipped)."""
    name = Path(file).name if file else "data.csv"
    with download.open("rb") as fh:
        zipped = fh.read(4) == b"PK\x03\x04"
    if not zipped or name.lower().endswith(".zip"):
        return download.rename(folder / _safe(name))
    try:
        with zipfile.ZipFile(download) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
            chosen = _choose(members, ref, file)
            target = folder / _safe(Path(chosen).name)
            target.write_bytes(archive.read(chosen))
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise DataLoadError(f"the download of kaggle://{ref} is a damaged zip archive "
                            f"({exc}). Fix: try again.") from None
    return target


def _choose(members: list[str], ref: str, file: str) -> str:
    if file:
        same = [m for m in members if m == file or Path(m).name == Path(file).name]
        if same or len(members) == 1:
            return (same or members)[0]
        raise DataLoadError(f"the download of kaggle://{ref}/{file} holds "
                            f"{', '.join(members[:20])}, not '{file}'. Fix: name one of them.")
    tables = [m for m in members if m.lower().endswith(_TABLES)]
    if len(tables) == 1:
        return tables[0]
    listed = ", ".join((tables or members)[:20]) or "nothing"
    if tables:
        raise DataLoadError(f"dataset {ref} holds {len(tables)} tables: {listed}. Fix: name "
                            f"one: kaggle://{ref}/{tables[0]}")
    raise DataLoadError(f"dataset {ref} holds no CSV or Parquet file (it has: {listed}). Fix: "
                        f"name the file to read, kaggle://{ref}/FILE, and convert it to CSV "
                        "if it is a spreadsheet.")


def _safe(name: str) -> str:
    """A member or file name as a plain file name in the download folder."""
    cleaned = re.sub(r"[^\w.+-]", "_", name).lstrip(".")
    return cleaned or "data.csv"
