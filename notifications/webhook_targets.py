"""Where a webhook may be sent: an https URL whose host resolves only to public addresses.

Checked when an endpoint is saved and again at every attempt, and the attempt connects to the very
address that was checked (the URL's host name goes only into `Host` and TLS), so that a name that
resolves to a public address for the check and to 169.254.169.254 for the connection (DNS rebinding)
reaches nothing inside. PORTAL_WEBHOOK_ALLOW_PRIVATE lets development and tests use http:// and
loopback or private addresses.
"""
import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_SECONDS = 5.0


class UnsafeTarget(ValueError):
    """The URL may not be called: a sentence saying why, for the client or the delivery log."""


@dataclass(frozen=True)
class Target:
    """A checked URL: the addresses to connect to, in order, and the names the request carries."""

    scheme: str
    host: str  # the URL's host name, for Host and TLS (SNI and the certificate check)
    port: int
    path: str  # path and query
    addresses: tuple[IPAddress, ...]

    def connect_url(self, address: IPAddress) -> str:
        literal = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{literal}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


# IPv6 prefixes whose last 32 bits are an IPv4 address the packets end up at: IPv4-mapped, IPv4-translated (SIIT),
# NAT64's well-known prefix and the deprecated IPv4-compatible form (which also holds :: and ::1).
LOW_32_IS_IPV4 = tuple(ipaddress.IPv6Network(prefix) for prefix in
                       ("::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96", "::/96"))
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")  # every public IPv6 address is in here
# "Global" to Python 3.11 yet never a public server: IETF protocol assignments, the 6to4 relay anycast, Teredo
# (its client's IPv4 address hidden inside), IPv6 documentation, NAT64's local-use prefix.
NEVER_PUBLIC = tuple(ipaddress.ip_network(prefix) for prefix in
                     ("192.0.0.0/24", "192.88.99.0/24", "2001::/32", "3fff::/20", "64:ff9b:1::/48"))


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to (6to4, NAT64, mapped, compatible); None for a plain IPv6 address."""
    if address.sixtofour is not None:
        return address.sixtofour
    if any(address in prefix for prefix in LOW_32_IS_IPV4):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast: no loopback, private, link-local (cloud metadata), shared, reserved or multicast,
    also not when written inside an IPv6 address (NAT64 `64:ff9b::a9fe:a9fe` is 169.254.169.254)."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
        if address not in GLOBAL_UNICAST_V6:
            return False
    if any(address in prefix for prefix in NEVER_PUBLIC):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def parsed_url(url: str, *, allow_private: bool) -> SplitResult:
    """The URL's parts if it may name an endpoint; UnsafeTarget saying what is wrong otherwise."""
    schemes = ("https", "http") if allow_private else ("https",)
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise UnsafeTarget("The URL is not a valid URL.") from None
    if parts.scheme.lower() not in schemes:
        raise UnsafeTarget("The URL must start with https://.")
    if not parts.hostname:
        raise UnsafeTarget("The URL has no host name.")
    if literal_address(parts.hostname) is None:
        try:
            parts.hostname.encode("idna")
        except UnicodeError:
            raise UnsafeTarget("The URL's host name is not a valid host name.") from None
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("The URL may not carry a user name or password.")
    return parts


def literal_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def ascii_host(host: str) -> str:
    """The host as DNS, TLS and `Host` spell it: an international name in its IDNA form."""
    return host if literal_address(host) is not None else host.encode("idna").decode("ascii")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to (the address itself for an IP literal); UnsafeTarget if none."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS)
    except (OSError, TimeoutError, UnicodeError) as error:
        raise UnsafeTarget(f"The host name {host} does not resolve: {error}.") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeTarget(f"The host name {host} does not resolve.")
    return addresses


def refuse_private(host: str, addresses: list[IPAddress]) -> None:
    private = [address for address in addresses if not is_public(address)]
    if private:
        raise UnsafeTarget(f"The URL's host {host} is a loopback, private, link-local or otherwise "
                           f"non-public address ({private[0]}); webhooks go only to public addresses.")


async def checked_target(url: str, *, allow_private: bool) -> Target:
    """Where to connect for `url`, checked now: every address the host resolves to must be public."""
    parts = parsed_url(url, allow_private=allow_private)
    host = ascii_host(parts.hostname or "")
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    addresses = await resolve(host, port)
    if not allow_private:
        refuse_private(host, addresses)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


async def check_endpoint_url(url: str, *, allow_private: bool) -> None:
    """When an endpoint is saved: the URL's form, and its addresses where its host resolves now.

    A name that does not resolve yet is accepted (its DNS may come later): every attempt checks again.
    """
    parts = parsed_url(url, allow_private=allow_private)
    if allow_private:
        return
    host = parts.hostname or ""
    try:
        addresses = await resolve(host, parts.port or 443)
    except UnsafeTarget:
        return
    refuse_private(host, addresses)
