"""Which addresses a webhook may reach (SSRF): never this machine, a private network or a cloud metadata service.

A URL is checked when it is registered and again at every delivery: the name is resolved once, every address it
gives is checked, and the connection goes to the checked address (transport.py), so a name that resolves to a public
address at registration and to 127.0.0.1 later (DNS rebinding) is refused. WEBHOOK_ALLOW_PRIVATE_TARGETS lets a
deployment (or the tests) reach private and loopback receivers; cloud metadata services and link-local addresses
(where those services live, 169.254.0.0/16 and fe80::/10) stay refused even then, in every IPv6 form of them.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
# Cloud instance metadata and credential services: a request from the server there hands out its cloud credentials.
# Refused whatever WEBHOOK_ALLOW_PRIVATE_TARGETS says: an on-premise receiver is never one of these.
METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, Azure, GCP, Oracle, DigitalOcean, OpenStack
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task credentials
    ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud (inside 100.64.0.0/10, which "private" lets through)
    ipaddress.ip_address("168.63.129.16"),  # Azure's host endpoint (WireServer), a public-looking address
}


class TargetRefused(Exception):  # noqa: N818 - a verdict, shown to the user
    pass


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection must go to


NAT64 = ipaddress.ip_network("64:ff9b::/96")
# RFC 8215's local-use NAT64 prefix, read as a /96 (its usual layout): 64:ff9b:1::a9fe:a9fe is 169.254.169.254 there.
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
# Deprecated IPv4-compatible addresses (::169.254.169.254); :: and ::1 are themselves.
COMPATIBLE = ipaddress.ip_network("::/96")


def _plain(ip: IP) -> IP:
    """The IPv4 address an IPv6 form carries (::ffff:127.0.0.1, NAT64, IPv4-compatible, 6to4, Teredo): that is what
    is reached."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in NAT64 or ip in NAT64_LOCAL or (ip in COMPATIBLE and int(ip) > 1):
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def address_problem(ip: IP, *, allow_private: bool) -> str | None:
    """Why `ip` may not be reached, or None."""
    ip = _plain(ip)
    if ip in METADATA:
        return _("a cloud metadata address")
    if ip.is_link_local:
        return _("a link-local address")
    if ip.is_unspecified:
        return _("an unspecified address")
    if ip.is_multicast:
        return _("a multicast address")
    if allow_private:
        return None
    if ip.is_loopback:
        return _("a loopback address (this machine)")
    if ip.is_private:
        return _("a private network address")
    if ip.is_reserved or not ip.is_global:
        return _("a reserved address")
    return None


def resolve(host: str, port: int) -> list[IP]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(_("The name %(host)s could not be resolved.") % {"host": host}) from error
    # An IPv6 scope ("fe80::1%eth0") is dropped before parsing; the address is link-local either way.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def target_check(url: str) -> Target:
    """The address to connect to for `url`, or TargetRefused with a message for the user."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(_("Only http:// and https:// addresses can receive webhooks."))
    if parts.username or parts.password:
        raise TargetRefused(_("Put no user name or password in the address; the signature authenticates us."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused(_("The port in the address is not valid.")) from error
    host = parts.hostname
    allow = settings.WEBHOOK_ALLOW_PRIVATE_TARGETS
    addresses = resolve(host, port)
    if not addresses:
        raise TargetRefused(_("The name %(host)s could not be resolved.") % {"host": host})
    # Every address must pass: a name that also resolves to a private address could be steered to it.
    for ip in addresses:
        problem = address_problem(ip, allow_private=allow)
        if problem:
            raise TargetRefused(
                _("%(host)s resolves to %(address)s, %(problem)s: webhooks are not sent there.")
                % {"host": host, "address": ip, "problem": problem}
            )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))
