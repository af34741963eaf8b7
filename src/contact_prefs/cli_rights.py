"""Who acts, under which policy, on the command line; and the one call that authorizes a command.

Every command takes ``--actor NAME`` (else ``$CONTACT_PREFS_ACTOR``, else the
login name), checked by the actor rule (:mod:`contact_prefs.identifiers`), and
``--policy PATH`` (else ``$CONTACT_PREFS_POLICY``), the district's policy file
(:mod:`contact_prefs.formats.policy_file`).  Both may come before the command
or after it, like ``--store``.  Without a policy every actor may do
everything, and a run on a terminal says so once.

:func:`authorize` asks :meth:`contact_prefs.Plugins.authorize` for the actor,
so the bundled policy and any installed plugin decide alike; the command line
calls it (through ``cli._open``) before a command reads or writes the store,
and the store it opens asks again before each write.  Commands added later
(the approval commands) call :func:`governance` and :func:`authorize` the same way.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from .cli import PROG, UsageError, _actor
from .formats.policy_file import read_policy
from .identifiers import IdError, check_actor
from .plugins import Plugins
from .rights import Action, Governance

POLICY_VARIABLE = "CONTACT_PREFS_POLICY"
ACTOR_VARIABLE = "CONTACT_PREFS_ACTOR"
NO_POLICY = "no policy: every actor may do everything (see docs/governance.md)"


def add_rights_options(parser: argparse.ArgumentParser, *, after_command: bool) -> None:
    """``--actor`` and ``--policy``, on the main parser (``after_command=False``) or on a command's,
    where a value given before the command is kept unless given again."""
    default = argparse.SUPPRESS if after_command else None
    parser.add_argument(
        "--actor",
        type=_actor,
        default=default,
        metavar="NAME",
        help=f"who does this, for the history and the policy (default: ${ACTOR_VARIABLE}, else the login name)",
    )
    parser.add_argument(
        "--policy",
        type=Path,
        default=default,
        metavar="PATH",
        help=f"the district's policy file: who may do what (default: ${POLICY_VARIABLE}, else none)",
    )


def resolve_actor(args: argparse.Namespace) -> str:
    """The actor of this run, set as ``args.actor``: ``--actor``, else ``$CONTACT_PREFS_ACTOR``,
    else the login name, checked by the actor rule."""
    if getattr(args, "actor", None):
        return str(args.actor)
    given = os.environ.get(ACTOR_VARIABLE, "")
    origin = f"${ACTOR_VARIABLE}"
    if not given:
        origin = "the login name"
        try:
            given = getpass.getuser()
        except (OSError, KeyError):  # no LOGNAME/USER and no passwd entry: a bare container
            raise UsageError(f"no actor: name who does this with --actor NAME or ${ACTOR_VARIABLE}") from None
    try:
        args.actor = check_actor(given)
    except IdError as error:
        raise UsageError(f"{origin}: {error}; name who does this with --actor NAME") from None
    return str(args.actor)


def governance(args: argparse.Namespace) -> Governance:
    """The district's policy for this run, read once: ``--policy``, else ``$CONTACT_PREFS_POLICY``,
    else none (every actor may do everything, said once on a terminal unless ``--quiet``)."""
    cached = getattr(args, "governance_", None)
    if isinstance(cached, Governance):
        return cached
    path = getattr(args, "policy", None) or os.environ.get(POLICY_VARIABLE) or None
    if path is None:
        found = Governance()
        if sys.stderr.isatty() and not getattr(args, "quiet", False):
            print(f"{PROG}: {NO_POLICY}", file=sys.stderr)
    else:
        found = read_policy(Path(path))
    args.governance_ = found
    return found


def plugins(args: argparse.Namespace, *, governed: bool = True) -> Plugins:
    """The plugins of this run, with the district's policy (``governed``) or without it."""
    if not governed:
        return Plugins.load()
    cached = getattr(args, "plugins_", None)
    if not isinstance(cached, Plugins):
        cached = args.plugins_ = Plugins.load(governance=governance(args))
    return cached


def authorize(args: argparse.Namespace, action: Action, context: Mapping[str, object] | None = None) -> None:
    """Raise :class:`~contact_prefs.errors.NotAuthorizedError` unless this run's actor may take ``action``.
    The context also holds ``command``, the command run (``"apply"``, ``"consent record"``)."""
    command = str(args.parser.prog).removeprefix(f"{PROG} ") if hasattr(args, "parser") else ""
    plugins(args).authorize(resolve_actor(args), action, {"command": command, **(context or {})})
