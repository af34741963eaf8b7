"""The district's policy file: who may do what, and which batches need approval (TOML, ``docs/governance.md``).

::

    [roles]
    clerk = ["plan", "export"]
    coordinator = ["plan", "apply", "undo", "import", "export", "consent"]

    [actors]
    jdoe = ["clerk"]

    [approval]            # optional: without it, no batch needs approval
    max_changes = 5000

:func:`read_policy` reads one into a :class:`~contact_prefs.rights.Governance`.
Every error names the file and where in it: the line and column of a TOML
syntax error, else the key path (``actors.jdoe[1]``), with the closest valid
names for a misspelled one.
"""

from __future__ import annotations

import datetime
import json
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from ..approval import ApprovalPolicy
from ..enums import Mode, Reason, _Vocabulary
from ..errors import ContactPrefsError
from ..identifiers import id_problem
from ..privacy import looks_personal, shown
from ..rights import Action, Governance, Rights, suggestion

TABLES = ("roles", "actors", "approval")
APPROVAL_KEYS = ("max_changes", "reasons", "modes", "expires_after_days")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
V = TypeVar("V", bound=_Vocabulary)


class PolicyFileError(ContactPrefsError, ValueError):
    """A policy file that cannot be read or says something invalid; ``file`` names it, ``where`` says where
    in it (``line 3, column 7`` or a key path such as ``actors.jdoe[1]``), ``problem`` what is wrong."""

    def __init__(self, file: Path, where: str, problem: str) -> None:
        self.file = str(file)
        self.where = where
        self.problem = problem
        if not where:
            place = self.file
        elif where.startswith("line "):
            place = f"{self.file}, {where}"
        else:
            place = f"{self.file}: {where}"
        super().__init__(f"{place}: {problem}")


def read_policy(path: Path) -> Governance:
    """The governance a policy file sets: its rights, and an approval policy that is
    ``required`` exactly when the file has an ``[approval]`` table.  A file with neither
    ``[roles]`` nor ``[actors]`` sets no rights (every actor may take every action)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PolicyFileError(path, "", f"cannot read the policy file: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise PolicyFileError(path, "", "is not UTF-8 text") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        at = _AT.search(message)
        where = f"line {at[1]}, column {at[2]}" if at else ""
        raise PolicyFileError(path, where, f"not valid TOML: {_AT.sub('', message)}") from None
    return _Reader(path).governance(document)


class _Reader:
    """Checks a parsed policy, naming every problem by its key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, problem: str) -> PolicyFileError:
        return PolicyFileError(self.path, where, problem)

    def governance(self, document: Mapping[str, Any]) -> Governance:
        self.known_keys("", document, TABLES)
        approval = ApprovalPolicy()
        if "approval" in document:
            approval = self.approval(self.table("approval", document["approval"]))
        if "roles" not in document and "actors" not in document:
            return Governance(rights=None, approval=approval)  # approval alone: everyone may act
        for table in ("roles", "actors"):
            if table not in document:
                raise self.fail("", f"the table [{table}] is missing (see docs/governance.md)")
        roles = {
            self.name(_path("roles", role), role, "role"): self.listed(_path("roles", role), actions, self.action)
            for role, actions in self.table("roles", document["roles"]).items()
        }
        actors = {
            self.name(_path("actors", actor), actor, "actor"): self.listed(
                _path("actors", actor), names, lambda where, value: self.role(where, value, roles)
            )
            for actor, names in self.table("actors", document["actors"]).items()
        }
        return Governance(rights=Rights(roles=roles, actors=actors), approval=approval)

    def known_keys(self, where: str, table: Mapping[str, Any], keys: Iterable[str]) -> None:
        known = tuple(keys)
        for key in table:
            if key not in known:
                place = _path(where, key) if where else _path(key)
                raise self.fail(place, f"unknown key{suggestion(key, known)}; keys: {', '.join(known)}")

    def table(self, where: str, value: Any) -> Mapping[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"must be a table ([{where}]), not {_kind(value)}")
        return value

    def name(self, where: str, value: str, what: str) -> str:
        problem = id_problem(value) or (None if value.strip() else "is only spaces")
        if problem:
            raise self.fail(where, f"the {what} name {problem}")
        return value

    def listed(self, where: str, value: Any, item: Callable[[str, Any], Any]) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(where, f'must be a list of names, such as ["plan"], not {_kind(value)}')
        return [item(f"{where}[{index}]", entry) for index, entry in enumerate(value)]

    def action(self, where: str, value: Any) -> Action:
        return self.member(where, value, Action, "action")

    def role(self, where: str, value: Any, roles: Mapping[str, Any]) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"a role is a name (a string), not {_kind(value)}")
        if value not in roles:
            raise self.fail(
                where,
                f"unknown role {shown(value)}{suggestion(value, roles)}; roles: {', '.join(sorted(roles)) or '(none)'}",
            )
        return value

    def member(self, where: str, value: Any, vocabulary: type[V], what: str) -> V:
        if not isinstance(value, str):
            article = "an" if what[0] in "aeiou" else "a"
            raise self.fail(where, f"{article} {what} is a name (a string), not {_kind(value)}")
        try:
            return vocabulary(value)
        except ValueError:
            names = [member.value for member in vocabulary]
            raise self.fail(
                where, f"unknown {what} {shown(value)}{suggestion(value, names)}; {what}s: {vocabulary.choices()}"
            ) from None

    def approval(self, table: Mapping[str, Any]) -> ApprovalPolicy:
        self.known_keys("approval", table, APPROVAL_KEYS)
        settings: dict[str, Any] = {"required": True}
        if "max_changes" in table:
            settings["max_changes"] = self.whole("approval.max_changes", table["max_changes"], least=0)
        if "reasons" in table:
            settings["reasons"] = self.listed(
                "approval.reasons", table["reasons"], lambda where, value: self.member(where, value, Reason, "reason")
            )
        if "modes" in table:
            settings["modes"] = self.listed(
                "approval.modes", table["modes"], lambda where, value: self.member(where, value, Mode, "mode")
            )
        if "expires_after_days" in table:
            days = self.whole("approval.expires_after_days", table["expires_after_days"], least=1)
            settings["expires_after"] = datetime.timedelta(days=days)
        return ApprovalPolicy(**settings)

    def whole(self, where: str, value: Any, *, least: int) -> int:
        if type(value) is not int or value < least:
            raise self.fail(where, f"must be a whole number of {least} or more, not {_kind(value)}")
        return value


def _path(*keys: str) -> str:
    """A key path as TOML writes it: ``actors.jdoe``, ``actors."j. doe"`` (a key that looks like an
    address is withheld, as every message withholds one)."""
    return ".".join(_key(key) for key in keys)


def _key(key: str) -> str:
    if looks_personal(key):
        return "<withheld>"
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key)


def _kind(value: Any) -> str:
    """How an error names a wrong value: its type, and the value itself when it is short and harmless."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {shown(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"
