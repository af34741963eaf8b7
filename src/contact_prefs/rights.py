"""Who may do what: the actions, a district's rights (roles and actors), and the rule that reads them.  Pure.

A district names roles, each granting some :class:`Action`, and gives each
actor (the name a person acts under, ``--actor`` on the command line) some
roles.  :func:`rights_denial` says why an actor may not take an action, or
``None`` when one of their roles grants it.  :class:`Governance` holds a
district's rights (``None``: every actor may do everything) with its
:class:`~contact_prefs.approval.ApprovalPolicy`.

The rule is asked through one place, :meth:`contact_prefs.Plugins.authorize`,
which the stores from :func:`contact_prefs.open_store` call before every write;
``docs/governance.md`` says which call needs which action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from .approval import ApprovalPolicy
from .enums import _Vocabulary
from .errors import ContactPrefsError
from .identifiers import id_problem
from .privacy import shown
from .scope import closest_ids


class Action(_Vocabulary):
    """What an actor may be allowed to do.  Each command and each store write needs one."""

    PLAN = "plan"
    """Plan a batch, and read what a store holds (history, info, consent records)."""
    APPLY = "apply"
    """Commit a batch."""
    UNDO = "undo"
    """Undo a batch."""
    IMPORT = "import"
    """Load records into a store."""
    EXPORT = "export"
    """Read every record out of a store, to files."""
    CONSENT = "consent"
    """Record consent events and resolve the messages waiting for review."""
    APPROVE = "approve"
    """Approve a batch another person proposed."""
    ADMIN = "admin"
    """Change a district's policies (the consent policy), build the demo district."""


class RightsError(ContactPrefsError, ValueError):
    """Rights that contradict themselves: an actor given a role no one defined, an unknown action..."""


def suggestion(value: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known names closest to ``value``, or nothing."""
    closest = closest_ids(value, known)
    return f" (did you mean {' or '.join(map(repr, closest))}?)" if closest else ""


def action_of(value: object) -> Action:
    """``value`` as an :class:`Action` (its name, in any case), else :class:`RightsError` with the choices."""
    if isinstance(value, Action):
        return value
    try:
        return Action(value)
    except ValueError:
        if not isinstance(value, str):
            raise RightsError(f"an action is a name, not {type(value).__name__}") from None
        hint = suggestion(value, (a.value for a in Action))
        raise RightsError(f"unknown action {shown(value)}{hint}; actions: {Action.choices()}") from None


def _name(value: object, what: str) -> str:
    problem = id_problem(value)
    if problem is None and not str(value).strip():
        problem = "is only spaces"
    if problem:
        subject = f"{what} {shown(value)}" if isinstance(value, str) and value else what
        raise RightsError(f"{subject} {problem}")
    return value  # type: ignore[return-value]  # id_problem checked it is a str


def _roles(value: Mapping[str, Iterable[object]]) -> Mapping[str, frozenset[Action]]:
    if not isinstance(value, Mapping):
        raise RightsError(f"roles must map role names to actions, not {type(value).__name__}")
    roles = {_name(role, "a role name"): frozenset(map(action_of, actions)) for role, actions in value.items()}
    return MappingProxyType(dict(sorted(roles.items())))


def _actors(value: Mapping[str, Iterable[str]]) -> Mapping[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        raise RightsError(f"actors must map actor names to role names, not {type(value).__name__}")
    actors: dict[str, frozenset[str]] = {}
    for actor, roles in value.items():
        if isinstance(roles, str):
            raise RightsError(f"the roles of the actor {shown(actor)} must be a collection of names, not a string")
        actors[_name(actor, "an actor name")] = frozenset(roles)
    return MappingProxyType(dict(sorted(actors.items())))


@attrs.frozen
class Rights:
    """A district's roles (name -> the actions it grants) and actors (name -> their role names).

    Every role an actor holds must be one of ``roles``; names follow the id
    rule (:mod:`contact_prefs.identifiers`); actions may be given by name.

    >>> rights = Rights(roles={"clerk": ["plan", "export"]}, actors={"jdoe": ["clerk"]})
    >>> sorted(action.value for action in rights.roles["clerk"])
    ['export', 'plan']
    >>> Rights(roles={"clerk": ["plan"]}, actors={"jdoe": ["clerck"]})
    Traceback (most recent call last):
    ...
    contact_prefs.rights.RightsError: the actor 'jdoe' has the unknown role 'clerck' (did you mean 'clerk'?); ...
    """

    roles: Mapping[str, frozenset[Action]] = attrs.field(converter=_roles, hash=False)
    actors: Mapping[str, frozenset[str]] = attrs.field(converter=_actors, hash=False)

    def __attrs_post_init__(self) -> None:
        for actor, roles in self.actors.items():
            for role in sorted(roles, key=str):
                if role not in self.roles:
                    raise RightsError(
                        f"the actor {shown(actor)} has the unknown role {shown(role)}{suggestion(role, self.roles)}; "
                        f"roles: {', '.join(self.roles) or '(none)'}"
                    )

    def granting(self, action: Action) -> tuple[str, ...]:
        """The roles that grant ``action``, by name."""
        return tuple(role for role, actions in self.roles.items() if action in actions)


def rights_denial(rights: Rights, actor: str, action: Action) -> str | None:
    """Why ``actor`` may not take ``action`` under ``rights``, or ``None`` when one of their roles grants it.

    >>> rights = Rights(roles={"clerk": ["plan"], "coordinator": ["plan", "apply"]}, actors={"jdoe": ["clerk"]})
    >>> rights_denial(rights, "jdoe", Action.PLAN) is None
    True
    >>> rights_denial(rights, "jdoe", Action.APPLY)
    'no role of theirs grants it (their roles: clerk); the roles that do: coordinator'
    >>> rights_denial(rights, "jdo", Action.PLAN)
    "not an actor of the policy (did you mean 'jdoe'?)"
    """
    roles = rights.actors.get(actor)
    if roles is None:
        return f"not an actor of the policy{suggestion(actor, rights.actors)}"
    if any(action in rights.roles[role] for role in roles):
        return None
    theirs = f"their roles: {', '.join(sorted(roles))}" if roles else "they hold no role"
    granting = rights.granting(action)
    others = f"the roles that do: {', '.join(granting)}" if granting else "no role of the policy does"
    return f"no role of theirs grants it ({theirs}); {others}"


def _approval(value: Any) -> ApprovalPolicy:
    if not isinstance(value, ApprovalPolicy):
        raise RightsError(f"approval must be an ApprovalPolicy, not {type(value).__name__}")
    return value


@attrs.frozen(kw_only=True)
class Governance:
    """A district's rules about people: who may do what (``rights``; ``None``: every actor may do
    everything) and which batches need a second person's approval (``approval``)."""

    rights: Rights | None = None
    approval: ApprovalPolicy = attrs.field(factory=ApprovalPolicy, validator=lambda _i, _a, v: _approval(v))

    def denial(self, actor: str, action: Action) -> str | None:
        """:func:`rights_denial` under these rights; ``None`` for everyone when there are none."""
        return None if self.rights is None else rights_denial(self.rights, actor, action)
