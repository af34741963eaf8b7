"""Replies and opt-outs as a messaging vendor reports them: one CSV file, one message a row.

The columns are ``address`` (the phone number or e-mail address the message
came from), ``message`` (its text, as received), ``received_at`` (ISO 8601
with a time zone) and, optionally, ``channel`` (how it came: ``keyword_reply``
when the column is absent or the cell empty).  Other columns are ignored.
Every row is read and checked before anything is recorded; an error names the
file, line and column, never an address (see ``docs/consent.md``).
"""

from __future__ import annotations

import datetime
from pathlib import Path

import attrs

from ..addresses import typed_address_key
from ..consent import Channel
from ..enums import normal_name
from .table import Row, parse_moment, read_table

REPLY_COLUMNS = ("address", "message", "received_at")
"""The columns a reply file must have; ``channel`` may be added."""

DEFAULT_CHANNEL = Channel.KEYWORD_REPLY

CHANNELS = ", ".join(channel.value for channel in Channel)


@attrs.frozen(kw_only=True)
class Reply:
    """One message of a reply file: from the address key ``address``, on line ``line``."""

    line: int
    address: str
    message: str
    received_at: datetime.datetime
    channel: Channel


def parse_channel(text: str) -> Channel:
    """A channel by its value, forgiving case, spaces and dashes (``Keyword reply``)."""
    try:
        return Channel(normal_name(text))
    except ValueError:
        raise ValueError(f"is not a channel ({CHANNELS})") from None


def read_replies(path: str | Path, *, region: str, now: datetime.datetime) -> tuple[Reply, ...]:
    """The messages of the reply file at ``path``, their addresses normalized (phone numbers in
    ``region`` when written without a country code); raises :class:`~.errors.FormatError`.

    A message received after ``now`` is refused: the latest event decides an
    address's consent, and a date in the future would outrank every real one.
    """
    return tuple(_reply(row, region, now) for row in read_table(Path(path), REPLY_COLUMNS))


def _reply(row: Row, region: str, now: datetime.datetime) -> Reply:
    address = row["address"].strip()
    if not address:
        raise row.error("address", "is empty, and a value is required")
    key = typed_address_key(address, region)
    if key is None:
        raise row.error("address", "is not a complete phone number or e-mail address")
    channel = row.parse("channel", parse_channel) if row["channel"].strip() else DEFAULT_CHANNEL
    received_at = row.parse("received_at", parse_moment)
    if received_at > now:
        raise row.error("received_at", f"is in the future (it is {now:%Y-%m-%d %H:%M} UTC now)")
    return Reply(line=row.line, address=key, message=row["message"], received_at=received_at, channel=channel)
