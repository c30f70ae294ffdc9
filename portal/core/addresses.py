"""Who is on the other end of a request: the client address, seen through trusted proxies.

The address counts failed sign-ins (models/throttle.py), so it must be one a client cannot choose:
the socket peer, or — when the peer is a proxy listed in PORTAL_TRUSTED_PROXIES — the rightmost
`X-Forwarded-For` entry that no trusted proxy added. Entries further left were written by the
client itself and prove nothing. IPv6 clients get a /64 each, as one host usually has a whole /64.
"""
import ipaddress
import json
from collections.abc import Sequence

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN = "unknown"  # no peer (an in-process test client): all such requests count as one address


def parse_proxies(value: object) -> list[str]:
    """PORTAL_TRUSTED_PROXIES: addresses and CIDR ranges, comma-separated or a JSON list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        try:
            items: object = json.loads(text) if text.startswith("[") else text.split(",")
        except json.JSONDecodeError:
            raise ValueError("a value starting with '[' must be a JSON list of strings") from None
    else:
        items = value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise ValueError("write addresses or CIDR ranges, comma-separated or as a JSON list")
    networks = []
    for item in (item.strip() for item in items):
        if not item:
            continue
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR range (e.g. 10.0.0.0/8, ::1)") from None
    return networks


def _address(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def is_trusted_proxy(peer: str | None, proxies: Sequence[IPNetwork]) -> bool:
    """Whether the socket peer is one of PORTAL_TRUSTED_PROXIES, i.e. the request was forwarded."""
    address = _address(peer) if peer else None
    return address is not None and _trusted(address, proxies)


def client_address(peer: str | None, forwarded_for: list[str], proxies: Sequence[IPNetwork]) -> str:
    """The address a client is counted by: an IPv4 address, an IPv6 /64, or UNKNOWN."""
    nearest = _address(peer) if peer else None
    if nearest is None:
        return UNKNOWN
    if _trusted(nearest, proxies):
        hops = [hop for header in forwarded_for for hop in header.split(",")]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:  # a proxy we trust wrote nonsense: count by that proxy rather than guess
                break
            nearest = address
            if not _trusted(address, proxies):
                break
    return counted_as(nearest)


def counted_as(address: IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def networks(proxies: Sequence[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(proxy, strict=False) for proxy in proxies]
