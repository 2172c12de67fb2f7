"""Job files (the submitted table, the fitted posterior) in a folder or any fsspec URL.

Keys are made by the service (``<task id>/input``, ``<task id>/fit.nc``), never taken
from a request, and are checked to stay inside the root.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bayesmmm.service._errors import ArtifactUnavailable

__all__ = ["ArtifactStore", "ArtifactDamaged", "checksum"]

_KEY = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_.-]+)*$")


def checksum(data: bytes) -> str:
    """The SHA-256 of an artifact's bytes, as stored with its job."""
    return hashlib.sha256(data).hexdigest()


class ArtifactDamaged(Exception):
    """A stored file is ``missing`` or ``damaged`` (its bytes do not match the checksum
    stored with the job, or it cannot be read). The message names no path."""

    def __init__(self, key: str, kind: str) -> None:
        what = key.rsplit("/", 1)[-1]
        super().__init__(f"the stored file '{what}' is {kind}")
        self.key = key
        self.kind = kind


class ArtifactStore:
    """Bytes by key under ``root``: a local folder (default) or an fsspec URL
    (``s3://bucket/bayesmmm``, ``memory://jobs`` ...) reachable by every server."""

    def __init__(self, root: str) -> None:
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem

        self.root = root
        fs, path = url_to_fs(root)
        self.fs: Any = fs
        self._base = path.rstrip("/")
        self.is_local = isinstance(fs, LocalFileSystem)
        if self.is_local:
            Path(self._base).mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> str:
        if not _KEY.match(key) or ".." in key.split("/"):
            raise ValueError(f"invalid artifact key {key!r}")
        return f"{self._base}/{key}"

    def put(self, key: str, data: bytes) -> str:
        """Store ``data`` whole under ``key`` (a local file is renamed into place);
        :class:`ArtifactUnavailable` (503) when the store cannot keep it (disk full,
        read-only, unreachable), with nothing left behind."""
        try:
            return self._put(key, data)
        except OSError as exc:
            raise ArtifactUnavailable(_reason(exc)) from exc

    def _put(self, key: str, data: bytes) -> str:
        path = self._path(key)
        parent = path.rsplit("/", 1)[0]
        if self.is_local:
            os.makedirs(parent, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=".part-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        else:
            self.fs.makedirs(parent, exist_ok=True)
            self.fs.pipe_file(path, data)  # object stores make a whole object at once
        return key

    def get(self, key: str) -> bytes:
        return bytes(self.fs.cat_file(self._path(key)))

    def get_checked(self, key: str, sha256: str | None) -> bytes:
        """The bytes under ``key``, checked against ``sha256`` (None: not known, not
        checked); :class:`ArtifactDamaged` if missing, unreadable or different."""
        try:
            data = self.get(key)
        except FileNotFoundError:
            raise ArtifactDamaged(key, "missing") from None
        except OSError:
            raise ArtifactDamaged(key, "unreadable") from None
        if sha256 is not None and checksum(data) != sha256:
            raise ArtifactDamaged(key, "damaged")
        return data

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def delete(self, prefix: str) -> None:
        """Remove a key or a job's folder; missing is fine."""
        path = self._path(prefix)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    @contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        """A local file with the artifact's content (the file itself when local)."""
        if self.is_local:
            yield Path(self._path(key))
            return
        with tempfile.TemporaryDirectory(prefix="bayesmmm-") as tmp:
            path = Path(tmp) / f"{uuid.uuid4().hex}-{key.rsplit('/', 1)[-1]}"
            path.write_bytes(self.get(key))
            yield path


def _reason(exc: OSError) -> str:
    import errno

    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk holding the artifacts is full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the artifact folder does not allow writes"
    return f"writing failed ({type(exc).__name__})"
