"""The listening sockets of ``rates serve``, bound before anything else starts.

Binding first means a busy port is found before the first refresh is scheduled: the
service then exits with one line and nothing it started keeps logging after it.
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

from rates.errors import ListenError

_CANNOT_LISTEN = {errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES}


def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """One bound socket per address ``host`` resolves to, as asyncio's ``create_server`` binds them."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ListenError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    bound: list[socket.socket] = []
    seen: set[tuple[int, tuple[Any, ...]]] = set()
    try:
        for family, kind, proto, _name, address in addresses:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            bound.append(_bind(family, kind, proto, address, host, port))
    except BaseException:
        for sock in bound:
            sock.close()
        raise
    return bound


def _bind(family: int, kind: int, proto: int, address: tuple[Any, ...], host: str, port: int) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:  # as asyncio does: an IPv6 socket does not also take IPv4
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        sock.setblocking(False)
    except OSError as exc:
        sock.close()
        if exc.errno in _CANNOT_LISTEN:  # the port is taken, or the address is not this machine's
            raise ListenError(f"cannot listen on {host}:{port} ({os.strerror(exc.errno)})") from None
        raise
    return sock
