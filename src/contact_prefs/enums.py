"""The vocabulary of the domain: reasons, methods, modes, settings, sources, skips.

Every enum's values are the lower-case member names, and member order is the
display order.  Lookups by value forgive case, dashes and spaces (through
:func:`normal_name`, the one normalization the core and the command line
share), so ``Reason("Food-Service") is Reason.FOOD_SERVICE``: people type
these names.
"""

from __future__ import annotations

import enum
import re

_SEPARATORS = re.compile(r"[\s_-]+")


def normal_name(text: str) -> str:
    """The one normalization of a name people type (a reason, setting, mode, method...):
    lower case, with runs of spaces, dashes and underscores made one underscore.

    >>> normal_name(" Food-Service "), normal_name("text  message")
    ('food_service', 'text_message')
    """
    return _SEPARATORS.sub("_", text.strip().lower())


class _Vocabulary(enum.Enum):
    """An enum whose values are lower-case names and whose lookup is forgiving."""

    # Members are singletons compared by identity, so identity can hash them too; Enum's own
    # hash runs Python code, and planning a district looks members up millions of times.
    __hash__ = object.__hash__

    @classmethod
    def _missing_(cls, value: object) -> _Vocabulary | None:
        if isinstance(value, str):
            normal = normal_name(value)
            for member in cls:
                if member.value == normal:
                    return member
        return None

    @property
    def label(self) -> str:
        """The human name, as the original tool shows it ("Food Service")."""
        return str(self.value).replace("_", " ").title()

    @classmethod
    def choices(cls) -> str:
        """The valid values, comma separated, for error messages."""
        return ", ".join(member.value for member in cls)


class Reason(_Vocabulary):
    """Why a message is sent.  Each reason owns one bit of a reason set."""

    EMERGENCY = "emergency"
    ATTENDANCE = "attendance"
    BEHAVIOR = "behavior"
    STAFF = "staff"
    GENERAL = "general"
    FOOD_SERVICE = "food_service"
    PRIORITY = "priority"
    TEACHER = "teacher"

    @property
    def bit(self) -> int:
        return _REASON_BITS[self]


_REASON_BITS = {reason: 1 << index for index, reason in enumerate(Reason)}


class Method(_Vocabulary):
    """A contact method: one phone or e-mail slot of a person or household."""

    HOUSEHOLD_PHONE = "household_phone"
    CELL_PHONE = "cell_phone"
    WORK_PHONE = "work_phone"
    OTHER_PHONE = "other_phone"
    EMAIL = "email"
    SECONDARY_EMAIL = "secondary_email"

    @property
    def is_phone(self) -> bool:
        """Phones can also carry text (SMS) preferences; e-mail cannot."""
        return self.value.endswith("_phone")

    @property
    def label(self) -> str:
        return "Secondary Email" if self is Method.SECONDARY_EMAIL else super().label


class Mode(_Vocabulary):
    """Whose preferences a batch sets."""

    STUDENT_MESSENGER_CONTACTS = "student_messenger_contacts"
    STUDENTS = "students"
    CENSUS_STAFF = "census_staff"

    @property
    def label(self) -> str:
        return "Census/Staff" if self is Mode.CENSUS_STAFF else super().label


class Setting(_Vocabulary):
    """What a batch does to one reason."""

    NO_CHANGE = "no_change"
    ON = "on"
    OFF = "off"


class Source(_Vocabulary):
    """Who last set a contact point's preferences."""

    DEFAULT = "default"
    STAFF = "staff"
    PORTAL = "portal"
    BATCH = "batch"
    IMPORT = "import"


class SkipReason(_Vocabulary):
    """Why a recipient or contact point was left alone."""

    UNKNOWN_PERSON = "unknown_person"
    NO_DISTRICT_ASSIGNMENT = "no_district_assignment"
    NO_CONTACT_METHOD = "no_contact_method"
    PORTAL_PROTECTED = "portal_protected"
    CONSENT_REVOKED = "consent_revoked"

    @property
    def label(self) -> str:
        return str(self.value).replace("_", " ").capitalize()
