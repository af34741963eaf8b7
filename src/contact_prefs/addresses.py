"""Addresses compared as the law compares them.

Consent belongs to a phone number or a mailbox, not to one record: "(280)
555-0143", "280-555-0143" and "+1 280 555 0143" are one number, saved on a
guardian, a household and a staff record alike.  An address's *key* is its
normalized form: a phone number in E.164 (with ``phonenumbers``, in the
district's default region), an e-mail address trimmed and lower-cased.  An
address that cannot be normalized has no key (``None``): it is kept as it is
and reported, never guessed at.
"""

from __future__ import annotations

import functools

import phonenumbers

from .enums import Method

__all__ = ["DEFAULT_REGION", "address_key", "email_key", "phone_key", "typed_address_key"]

DEFAULT_REGION = "US"
"""Where a phone number written without a country code is taken to be."""


@functools.lru_cache(maxsize=1 << 17)  # a district's numbers, parsed once per process (25 µs each)
def phone_key(text: str, region: str = DEFAULT_REGION) -> str | None:
    """The E.164 form of a phone number, or ``None`` when ``text`` is not a complete number."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None  # too short or long, or a local number without its area code
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def email_key(text: str) -> str | None:
    """An e-mail address trimmed and lower-cased, or ``None`` when ``text`` is not one."""
    key = text.strip().lower()
    local, at, domain = key.rpartition("@")
    if not (local and at and "." in domain.strip(".")) or len(key.split()) != 1:  # no space inside (C speed)
        return None
    return key


def address_key(method: Method, address: str, region: str = DEFAULT_REGION) -> str | None:
    """The key of the address saved at a contact point of ``method``."""
    return phone_key(address, region) if method.is_phone else email_key(address)


def typed_address_key(text: str, region: str = DEFAULT_REGION) -> str | None:
    """The key of an address someone typed or a vendor reported, whose kind is not given:
    an e-mail address if it has an ``@``, a phone number otherwise."""
    return email_key(text) if "@" in text else phone_key(text, region)
