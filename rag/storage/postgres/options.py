"""How to reach a collection's database: its URL (shown only masked), pool size and timeouts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

MASK = "***"
# key=value connection strings ("host=db password=secret") as libpq also takes them
_DSN_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def masked_url(url: str) -> str:
    """The URL with its password (in the authority, or a `password=` parameter) replaced by ***."""
    if "://" not in url:
        return _DSN_PASSWORD.sub(lambda m: m.group(1) + MASK, url)
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the database (its URL could not be parsed)"
    netloc = parts.netloc
    if "@" in netloc:
        credentials, host = netloc.rsplit("@", 1)
        if ":" in credentials:
            credentials = credentials.split(":", 1)[0] + ":" + MASK
        netloc = f"{credentials}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if k.lower() == "password" else v) for k, v in pairs], safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_of(url: str) -> list[str]:
    """The password strings of a URL, to scrub from any message that might repeat them."""
    found = []
    if "://" in url:
        try:
            parts = urlsplit(url)
            if parts.password:
                found.append(parts.password)
            found += [v for k, v in parse_qsl(parts.query) if k.lower() == "password" and v]
        except ValueError:
            found.append(url)  # unparseable: scrub the whole string
    else:
        found += [m.group(2).strip("'") for m in _DSN_PASSWORD.finditer(url)]
    return [secret for secret in found if secret]


@dataclass(frozen=True)
class DatabaseOptions:
    """A database collection's connection settings (from rag.config.Settings); the URL never printed whole."""

    url: SecretStr
    pool_size: int = 10
    connect_timeout_s: float = 5.0
    statement_timeout_s: float = 20.0
    # how long a write waits for another writer's transaction before giving up (None: as long as it takes)
    lock_timeout_s: float | None = field(default=None)

    @property
    def location(self) -> str:
        """The URL with its password masked: what people and logs are shown."""
        return masked_url(self.url.get_secret_value())

    def scrub(self, text: str) -> str:
        """A message with the URL and its password masked wherever they appear."""
        raw = self.url.get_secret_value()
        text = text.replace(raw, self.location)
        for secret in secrets_of(raw):
            text = text.replace(secret, MASK)
        return text
