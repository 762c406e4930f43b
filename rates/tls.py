"""HTTPS for ``rates serve``: an SSL context from a PEM certificate (chain) and key."""

from __future__ import annotations

import ssl
from pathlib import Path

from rates.errors import TlsError


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server context with Python's secure defaults; :class:`TlsError` names the file at fault."""
    for what, path in (("certificate", cert), ("key", key)):
        try:
            path.read_bytes()
        except OSError as exc:
            raise TlsError(f"cannot read the TLS {what} {path}: {exc.strerror or exc}") from None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as exc:
        raise TlsError(f"the TLS certificate {cert} and key {key} are not a usable PEM pair ({exc})") from None
    return context
