"""Store URLs, ``postgresql://user:password@host:port/dbname?schema=NAME``, and how to show them safely.

The URL is a libpq connection URI plus one parameter of our own, ``schema``:
the PostgreSQL schema (namespace) holding the store's tables, so that several
districts or test runs can share one database.  Everything else (host, port,
``sslmode``...) goes to libpq untouched.  A password never leaves this module
except inside ``conninfo``, which has no repr.
"""

from __future__ import annotations

import urllib.parse

import attrs

from contact_prefs import StoreError
from contact_prefs.privacy import MASK, redact_url, url_secrets

SCHEMES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "contact_prefs"
NAME_BYTES = 63  # PostgreSQL truncates longer identifiers silently: refuse them instead


def _is_secret(parameter: str) -> bool:
    return "password" in parameter.lower()


@attrs.frozen
class PostgresUrl:
    """A parsed store URL.

    ``conninfo`` is what libpq connects with (the URL without ``schema``);
    ``redacted`` is the URL with every password masked, for messages and reprs.
    """

    conninfo: str = attrs.field(repr=False)
    schema: str
    redacted: str
    secrets: tuple[str, ...] = attrs.field(repr=False, default=())

    @classmethod
    def parse(cls, url: str) -> PostgresUrl:
        # One redaction for every message about any store URL, malformed ones included.
        redacted = redact_url(url)
        secrets = list(url_secrets(url))
        try:
            parts = urllib.parse.urlsplit(url)  # the port is libpq's to check: it allows host lists
        except ValueError as error:
            raise StoreError(f"{redacted!r} is not a valid URL: {error}") from None
        kept: list[str] = []
        schemas: list[str] = []
        # Parameters are split by hand, not with parse_qsl: libpq reads '+' literally
        # and the others must reach it exactly as written.
        for item in filter(None, parts.query.split("&")):
            name, _, value = item.partition("=")
            if name == "schema":
                schemas.append(urllib.parse.unquote(value))
            else:
                kept.append(item)
                if _is_secret(name):
                    secrets += [value, urllib.parse.unquote(value)]
        if parts.scheme not in SCHEMES:
            raise StoreError(f"{redacted!r} is not a PostgreSQL URL: it must start with postgresql:// or postgres://")
        if len(schemas) > 1:
            raise StoreError(f"{redacted!r} names the schema {len(schemas)} times; give ?schema=NAME once")
        schema = schemas[0] if schemas else DEFAULT_SCHEMA
        if not schema or len(schema.encode()) > NAME_BYTES or "\x00" in schema:
            raise StoreError(
                f"{redacted!r}: the schema name {schema!r} must be 1 to {NAME_BYTES} bytes long, without NUL"
            )
        conninfo = urllib.parse.urlunsplit(parts._replace(query="&".join(kept)))
        return cls(conninfo=conninfo, schema=schema, redacted=redacted, secrets=tuple(s for s in secrets if s))

    def scrub(self, message: str) -> str:
        """``message`` with any password of this URL masked (libpq errors may echo parameters)."""
        for secret in self.secrets:
            message = message.replace(secret, MASK)
        return message

    def __str__(self) -> str:
        return self.redacted
