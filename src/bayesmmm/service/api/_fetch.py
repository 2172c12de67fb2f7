"""Fetching a ``download_link`` without letting the service be used against its own network.

Every hop (the link and each redirect) is resolved first; if any address it resolves
to is private, loopback, link-local or otherwise not global, the fetch is refused
(unless the operator allowed that network). The connection then goes to the checked
address itself, with the original host name for ``Host`` and TLS, so a second DNS
answer cannot swap in another address. Size and total time are bounded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from bayesmmm.service._errors import DownloadError
from bayesmmm.service._settings import IPNetwork

__all__ = ["Fetcher", "Resolver", "embedded_v4", "is_blocked"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_REDIRECTS = {301, 302, 303, 307, 308}
_FIX = "Fix: pass a public http(s) link to the file, or upload the file instead"


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: IPv6 prefixes that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052's
#: well-known prefix and RFC 8215's local-use prefix) and SIIT's IPv4-translated form.
_V4_SUFFIX_NETS = tuple(ipaddress.IPv6Network(n) for n in (
    "64:ff9b::/96", "64:ff9b:1::/48", "::ffff:0:0:0/96"))
#: IPv4-compatible addresses (``::a.b.c.d``, deprecated by RFC 4291): no global use.
_V4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_v4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries: IPv4-mapped (``::ffff:a.b.c.d``),
    IPv4-compatible (``::a.b.c.d``), IPv4-translated (``::ffff:0:a.b.c.d``), NAT64
    (``64:ff9b::a.b.c.d``, ``64:ff9b:1::/48``), 6to4 (``2002:aabb:ccdd::``) and Teredo
    (server and client). A connection to such an address may reach that IPv4 host."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    out: list[ipaddress.IPv4Address] = []
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.ipv4_mapped is not None:
        out.append(ip.ipv4_mapped)
    if ip in _V4_COMPATIBLE or any(ip in net for net in _V4_SUFFIX_NETS):
        out.append(low32)
    if ip.sixtofour is not None:
        out.append(ip.sixtofour)
    if ip.teredo is not None:
        out.extend(ip.teredo)
    return out


def _blocked_one(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and (ip in _V4_COMPATIBLE or ip.is_site_local):
        return True  # IPv4-compatible (any) and site-local (fec0::/10) are never public
    return (not ip.is_global or ip.is_multicast or ip.is_reserved or ip.is_loopback
            or ip.is_link_local or ip.is_private or ip.is_unspecified)


def _allowed(ip: IPAddress, allow: Sequence[IPNetwork] | str) -> bool:
    if isinstance(allow, str):
        return allow == "all"
    return any(ip in net for net in allow if net.version == ip.version)


def is_blocked(ip: IPAddress, allow: Sequence[IPNetwork] | str = ()) -> bool:
    """True unless ``ip`` is a global unicast address (and so is every IPv4 address it
    carries), or it lies inside an allowed network."""
    inner = embedded_v4(ip)
    wrapper = isinstance(ip, ipaddress.IPv6Address) and (
        ip.ipv4_mapped is not None or any(ip in net for net in _V4_SUFFIX_NETS))
    # a mapped, translated or NAT64 address is its IPv4 host in IPv6 clothes: judge that
    candidates: list[IPAddress] = [*inner] if wrapper else [ip, *inner]
    if isinstance(allow, str) and allow == "all":
        return False
    for candidate in candidates:
        if _blocked_one(candidate) and not _allowed(candidate, allow):
            return True
    return False


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:g} MB"


class Fetcher:
    """Downloads a file by URL within limits.

    Parameters
    ----------
    max_bytes : int
        Largest body accepted (after any content decoding).
    timeout : float
        Seconds for the whole download, redirects included.
    allow : sequence of networks, or "all"
        Non-global networks that may be reached anyway (operator's choice).
    resolver : async callable(host, port) -> list of addresses, optional
        Name resolution (the system's by default; tests inject their own).
    max_redirects : int
    transport : httpx.AsyncBaseTransport, optional
        For tests.
    """

    def __init__(self, max_bytes: int, timeout: float, allow: Sequence[IPNetwork] | str = (),
                 resolver: Resolver | None = None, max_redirects: int = 5,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.allow = allow
        self.resolver = resolver or system_resolver
        self.max_redirects = max_redirects
        self.transport = transport

    async def fetch(self, url: str) -> bytes:
        """The body at ``url``; :class:`DownloadError` (with its HTTP status) otherwise."""
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url)
        except TimeoutError:
            raise DownloadError(504, "download_timeout",
                                f"download_link did not finish within {self.timeout:g} s. "
                                f"{_FIX}, or a smaller one") from None

    async def _follow(self, url: str) -> bytes:
        limits = httpx.Timeout(self.timeout)
        async with httpx.AsyncClient(timeout=limits, trust_env=False, follow_redirects=False,
                                     transport=self.transport) as client:
            for _ in range(self.max_redirects + 1):
                target = self._parse(url)
                address = await self._address(target)
                body, redirect = await self._get(client, target, address)
                if body is not None:
                    return body
                url = redirect or url
            raise DownloadError(422, "download_redirects",
                                f"download_link redirected more than {self.max_redirects} "
                                f"times. {_FIX}")

    def _parse(self, url: str) -> httpx.URL:
        try:
            target = httpx.URL(url)
        except Exception:
            raise DownloadError(422, "download_bad_url",
                                f"download_link {url[:200]!r} is not a valid URL. {_FIX}"
                                ) from None
        if target.scheme not in ("http", "https"):
            raise DownloadError(422, "download_bad_url",
                                f"download_link must use http or https, got "
                                f"{target.scheme or 'no'} scheme. {_FIX}")
        if not target.host:
            raise DownloadError(422, "download_bad_url",
                                f"download_link {url[:200]!r} has no host. {_FIX}")
        return target

    async def _address(self, target: httpx.URL) -> str:
        """The checked address to connect to (all of the host's addresses must pass)."""
        host = target.host
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            addresses = [host] if _is_ip(host) else await self.resolver(host, port)
        except OSError:
            addresses = []
        if not addresses:
            raise DownloadError(422, "download_unresolved",
                                f"download_link host '{host}' could not be resolved. {_FIX}")
        for text in addresses:
            if is_blocked(ipaddress.ip_address(text.split("%")[0]), self.allow):
                shown = f"'{host}'" if host == text else f"'{host}' ({text})"
                raise DownloadError(
                    422, "download_private_address",
                    f"download_link host {shown} is a private, loopback or link-local "
                    "address; the service does not fetch from internal networks. "
                    f"{_FIX} (operators: BAYESMMM_DOWNLOAD_ALLOW lists networks to allow)")
        return addresses[0].split("%")[0]

    async def _get(self, client: httpx.AsyncClient, target: httpx.URL,
                   address: str) -> tuple[bytes | None, str | None]:
        """``(body, None)``, or ``(None, next URL)`` for a redirect."""
        host_header = f"[{target.host}]" if ":" in target.host else target.host
        if target.port is not None:
            host_header += f":{target.port}"
        extensions: dict[str, Any] = {}
        if target.scheme == "https" and not _is_ip(target.host):
            extensions["sni_hostname"] = target.host
        request = client.build_request("GET", target.copy_with(host=address),
                                       headers={"Host": host_header}, extensions=extensions)
        try:
            response = await client.send(request, stream=True)
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as exc:
            why = ("its TLS certificate is not valid for that name"
                   if "CERTIFICATE_VERIFY_FAILED" in str(exc) else type(exc).__name__)
            raise DownloadError(502, "download_unreachable",
                                f"download_link host '{target.host}' could not be reached "
                                f"({why}). {_FIX}") from None
        try:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                return None, str(target.join(response.headers["location"]))
            if response.status_code >= 400:
                raise DownloadError(
                    422, "download_http_error",
                    f"download_link answered HTTP {response.status_code} "
                    f"({response.reason_phrase or 'error'}). Fix: check that the link is "
                    "right, public and not expired, or upload the file instead")
            return await self._read(response), None
        finally:
            await response.aclose()

    async def _read(self, response: httpx.Response) -> bytes:
        too_large = DownloadError(413, "too_large",
                                  f"download_link content is larger than the "
                                  f"{_mb(self.max_bytes)} limit. Fix: send fewer rows or "
                                  "columns (e.g. weekly instead of daily data), or Parquet")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large
        chunks, size = [], 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise TimeoutError from None
        except httpx.HTTPError as exc:
            raise DownloadError(502, "download_unreachable",
                                f"download_link broke off while downloading "
                                f"({type(exc).__name__}). {_FIX}") from None
        return b"".join(chunks)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
