"""What a message may repeat: values that may be personal data, and store URLs that may hold a password.

Every error and warning that quotes a value from a file or an option quotes it
through :func:`shown`, and every message that names a store URL names it
through :func:`redact_url`.  Both are pure and cheap, and err on the side of
withholding: a message that withholds an id still names the file, line and
column where it is.

>>> shown("gym")
"'gym'"
>>> shown("(280) 555-0143")
'a value that looks like a phone number'
>>> shown("pat@example.org")
'a value that looks like an e-mail address'
>>> redact_url("postgresql://ann:Sup3r@db.example.org/district?password=x&schema=s")
'postgresql://ann:***@db.example.org/district?password=***&schema=s'
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

MASK = "***"
SHOWN_LENGTH = 60
"""Longer values are cut to this many characters in messages."""

_EMAIL = re.compile(r"[^\s@]@[^\s@]")
# A run of digits and the punctuation phone numbers are written with: "(280) 555-0143", "+44 20 7946 0958";
# a run that letters touch is part of a word or a hex id ("3f58217439c"), not a number on its own.
_PHONE_RUN = re.compile(r"(?<!\w)[+(]?\d[\d\s().\-/]*\d(?!\w)")
PHONE_DIGITS = 7
"""A run of at least this many digits may be a phone number (a local number has seven)."""
# Dates are written with the same characters, and are quoted in errors about dates.
_DATE = re.compile(
    r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"
    r"|(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"  # 20241201
)
_SECRET_PARAMETER = re.compile(r"(?i)([\w.]*password[\w.]*\s*=\s*)('[^']*'|[^&\s#]*)")


def looks_like_email(text: str) -> bool:
    return _EMAIL.search(text) is not None


def looks_like_phone(text: str) -> bool:
    for run in _PHONE_RUN.finditer(text):
        digits = sum(character.isdigit() for character in run.group())
        if digits >= PHONE_DIGITS and not _DATE.fullmatch(run.group().strip("()+ ")):
            return True
    return False


def looks_personal(text: str) -> bool:
    """Whether ``text`` holds something that looks like a phone number or an e-mail address.

    Deliberately broad: a long numeric id looks like a phone number too, and is
    withheld from messages like one.

    >>> samples = ("stu-0001", "2024-13-01", "20241201", "9f0c81274390d2", "5550143", "tel:(280) 555-0143", "x@y.z")
    >>> [looks_personal(sample) for sample in samples]
    [False, False, False, False, True, True, True]
    """
    return looks_like_email(text) or looks_like_phone(text)


def shown(value: str) -> str:
    """``value`` as a message may quote it: its repr, cut when long, or what it looks like when personal."""
    if looks_like_email(value):
        return "a value that looks like an e-mail address"
    if looks_like_phone(value):
        return "a value that looks like a phone number"
    if len(value) > SHOWN_LENGTH:
        return f"{value[:SHOWN_LENGTH]!r}... ({len(value):,} characters)"
    return repr(value)


# -- store URLs ------------------------------------------------------------------


def _userinfo_end(rest: str) -> int:
    """Where the ``user:password`` part ends (its ``@``) in a URL after ``scheme://``, or -1."""
    query = min((i for i in (rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    at = rest.rfind("@", 0, query)
    return at if at >= 0 else rest.rfind("@")  # a '?' or '#' written inside the password


def redact_url(url: str) -> str:
    """``url`` with every password masked: ``user:***@`` and ``...password...=***``.

    For any scheme, and for text that is not a valid URL at all (a message
    about a malformed URL must not show its password either).  When in doubt
    it masks more than the password.
    """
    scheme, separator, rest = url.partition("://")
    if separator:
        at = _userinfo_end(rest)
        if at >= 0 and ":" in rest[:at]:
            rest = f"{rest[:at].partition(':')[0]}:{MASK}{rest[at:]}"
        url = f"{scheme}{separator}{rest}"
    return _SECRET_PARAMETER.sub(lambda match: match.group(1) + MASK, url)


def url_secrets(url: str) -> tuple[str, ...]:
    """The passwords ``url`` holds, as written and percent-decoded, longest first (for :func:`scrub`)."""
    found: list[str] = []
    _, separator, rest = url.partition("://")
    if separator:
        at = _userinfo_end(rest)
        if at >= 0 and ":" in rest[:at]:
            found.append(rest[:at].partition(":")[2])
    found += [match.group(2).strip("'") for match in _SECRET_PARAMETER.finditer(url)]
    found += [urllib.parse.unquote(secret) for secret in found]
    return tuple(sorted({secret for secret in found if secret}, key=len, reverse=True))


def scrub(message: str, secrets: Iterable[str]) -> str:
    """``message`` with every one of ``secrets`` masked."""
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, MASK)
    return message
