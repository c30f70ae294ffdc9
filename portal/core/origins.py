"""Browser origins, as PORTAL_ALLOWED_ORIGINS lists them and as browsers send them in `Origin`."""
import json
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """`scheme://host[:port]` as a browser sends it: lower case, without a default port or a trailing slash.

    Anything else (a path, a query, a user name, `*`, another scheme) is refused with a ValueError that
    says what an origin looks like.
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if (parts is None or parts.scheme.lower() not in DEFAULT_PORTS or not parts.hostname
            or parts.path not in ("", "/") or parts.query or parts.fragment or parts.username):
        raise ValueError(f"{text!r} is not an origin: write scheme://host[:port], such as http://localhost:5173")
    scheme = parts.scheme.lower()
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}" if port in (None, DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def url_origin(url: str) -> str:
    """The origin of an http(s) URL that may have a path, such as the base URL."""
    parts = urlsplit(url.strip())
    try:
        return origin_of(f"{parts.scheme}://{parts.netloc}")
    except ValueError:
        raise ValueError(f"{url!r} is not an http(s) URL, such as https://portal.example.com") from None


def parse_origins(value: object) -> list[str]:
    """A comma-separated list (`http://localhost:5173, https://app.example.com`) or a JSON list of strings."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"not valid JSON ({error.msg}); write a JSON list of strings or "
                                 "a comma-separated list") from None
        else:
            value = [item for item in text.split(",") if item.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise ValueError("write a comma-separated list of origins or a JSON list of strings")
    return list(dict.fromkeys(origin_of(item) for item in value))
