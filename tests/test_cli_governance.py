"""``contact-prefs propose``, ``approve``, ``withdraw``, ``proposals``, ``apply --proposal`` and ``verify``.

Commands run in process (``main``, what ``contact-prefs`` runs), each flow on
a SQLite file and on one memory store that outlives each command as a file
does (a test plugin serves it under ``shared://``); the store is named by
``$CONTACT_PREFS_STORE``.  The tamper tests edit the memory store's insides;
the SQLite and PostgreSQL stores' own tests tamper by SQL.
"""

from __future__ import annotations

import datetime
import io
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

import contact_prefs.cli
from contact_prefs import Plugins, hookimpl, open_store
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.chain import GENESIS
from contact_prefs.demo import build_district
from contact_prefs.digest import changeset_digest
from contact_prefs.enums import Mode, Reason, Setting, Source
from contact_prefs.governance import propose
from contact_prefs.hookspecs import RegisterStore
from contact_prefs.planning import plan
from contact_prefs.snapshot import Snapshot
from contact_prefs.spec import BatchSpec
from contact_prefs.store import ClosesOnExit
from contact_prefs_memory import MemoryStore

TODAY = datetime.date.today()
GENERAL_ON = ("--mode", "students", "--set", "general=on", "--as-of", TODAY.isoformat())
SPEC = BatchSpec(mode=Mode.STUDENTS, settings={Reason.GENERAL: Setting.ON}, as_of=TODAY)


class KeptOpen(ClosesOnExit):
    """The shared store as each command opens it: closing it at the end of a command keeps it open."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _shared(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    """A memory store served to every command of the test as ``shared://``."""
    shared = MemoryStore()

    def contact_prefs_register_stores(register: RegisterStore) -> None:
        register("shared", lambda url: KeptOpen(shared))

    served = types.ModuleType("shared_store")
    served.contact_prefs_register_stores = hookimpl(contact_prefs_register_stores)  # type: ignore[attr-defined]
    load = Plugins.load.__func__  # type: ignore[attr-defined]

    def with_shared(cls: type[Plugins], extra: Any = (), **options: Any) -> Plugins:
        plugins: Plugins = load(cls, [*extra, served], **options)
        return plugins

    monkeypatch.setattr(Plugins, "load", classmethod(with_shared))
    monkeypatch.setenv("CONTACT_PREFS_STORE", "shared://")
    return shared


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Any]:
    """A store holding a small demo district, which each command opens through ``$CONTACT_PREFS_STORE``."""
    monkeypatch.delenv("CONTACT_PREFS_POLICY", raising=False)
    if request.param == "memory":
        opened: Any = _shared(monkeypatch)
    else:
        url = f"sqlite:///{tmp_path / 'district.db'}"
        monkeypatch.setenv("CONTACT_PREFS_STORE", url)
        opened = open_store(url)
    opened.load(build_district(40, seed=3, today=TODAY))
    yield opened
    opened.close()


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryStore]:
    """The shared memory store alone, for the tests that tamper with its insides."""
    monkeypatch.delenv("CONTACT_PREFS_POLICY", raising=False)
    shared = _shared(monkeypatch)
    shared.load(build_district(40, seed=3, today=TODAY))
    yield shared
    shared.close()


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = contact_prefs.cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code, out, err = cli(capsys, *args)
    assert (code, err) == (0, ""), (out, err)
    return out


def refused(capsys: pytest.CaptureFixture[str], *args: str, code: int = 2) -> str:
    """The error of a command that must fail with ``code``; it prints nothing on standard output."""
    got, out, err = cli(capsys, *args)
    assert (got, out) == (code, ""), (out, err)
    return err


def proposed(
    capsys: pytest.CaptureFixture[str], *options: str, actor: str = "ann", batch: tuple[str, ...] = GENERAL_ON
) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(capsys, "propose", *batch, *options, "--actor", actor, "--format", "json"))
    return data


def approved(capsys: pytest.CaptureFixture[str], batch: tuple[str, ...] = GENERAL_ON) -> str:
    proposal_id: str = proposed(capsys, batch=batch)["proposal_id"]
    ok(capsys, "approve", proposal_id, "--actor", "bob")
    return proposal_id


def written(store: MemoryStore) -> tuple[int, int, int]:
    """How much the store holds that a refused command must not add to: batches, links, approvals."""
    approvals = sum(1 for proposal in store.proposals() if proposal.approver is not None)
    return len(store.history()), len(store.chain()), approvals


# -- the flow -------------------------------------------------------------------


def test_propose_approve_apply_names_proposer_approver_and_applier(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    before = store.dump()
    text = ok(capsys, "propose", *GENERAL_ON, "--actor", "ann")
    (proposal,) = store.proposals()
    change_set = plan(SPEC, store.snapshot(SPEC))
    assert proposal.digest == changeset_digest(change_set)
    assert proposal.proposer == "ann" and proposal.approver is None
    assert f"Proposal {proposal.proposal_id} by ann at " in text
    assert "Needs approval: not under the policy\n" in text
    assert f"Digest: {proposal.digest}\n" in text
    assert f"contact-prefs approve {proposal.proposal_id[:8]} --actor NAME" in text
    assert f"Updated preferences: {len(change_set):,}\n" in text
    assert store.dump().collections() == before.collections()  # a proposal writes nothing else
    assert store.history() == ()

    text = ok(capsys, "approve", proposal.proposal_id[:6], "--actor", "bob")
    assert "State: approved\n" in text
    assert "Approved by bob at " in text

    text = ok(capsys, "apply", "--proposal", proposal.proposal_id, "--actor", "carol", "--yes")
    (record,) = store.history()
    assert f"Batch {record.batch_id} by carol at " in text
    assert f"Applied proposal {proposal.proposal_id}: proposed by ann, approved by bob\n" in text
    assert record.actor == "carol"
    assert attrs.asdict(record.approval) == {"proposal_id": proposal.proposal_id, "proposer": "ann", "approver": "bob"}
    assert sum(record.counts.values()) == len(change_set)

    (listed,) = json.loads(ok(capsys, "proposals", "--format", "json"))
    assert (listed["state"], listed["batch_id"], listed["applied_by"]) == ("applied", record.batch_id, "carol")
    approval = {"proposal_id": proposal.proposal_id, "proposer": "ann", "approver": "bob"}
    (entry,) = json.loads(ok(capsys, "history", "--format", "json"))
    assert entry["approval"] == approval
    assert json.loads(ok(capsys, "show", record.batch_id, "--format", "json"))["approval"] == approval
    assert "approved by bob, proposed by ann" in ok(capsys, "history")
    assert "proposed by ann, approved by bob" in ok(capsys, "show", record.batch_id)
    chained = len(store.chain())
    assert ok(capsys, "verify").startswith(f"The history is intact: {chained} entries, head {store.chain()[-1].hash}\n")


def test_the_json_of_propose_holds_the_proposal_and_the_plan(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    data = proposed(capsys)
    (proposal,) = store.proposals()
    assert data["proposal_id"] == proposal.proposal_id
    assert (data["state"], data["proposer"], data["approver"], data["batch_id"]) == ("proposed", "ann", None, None)
    assert data["digest"] == proposal.digest
    assert data["updated"] == proposal.changes == data["plan"]["updated"] > 0
    assert data["why"] is None
    at, expires = (datetime.datetime.fromisoformat(data[key]) for key in ("at", "expires_at"))
    assert expires - at == datetime.timedelta(days=7)
    assert data["spec"]["settings"]["general"] == "on"
    assert data["counts"] == data["plan"]["counts"]
    assert data["plan"]["batch_id"] is None and data["plan"]["recipients"] > 0


def test_the_proposer_cannot_approve_their_own_proposal(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    proposal_id = proposed(capsys)["proposal_id"]
    before = written(store)
    error = refused(capsys, "approve", proposal_id, "--actor", "ann")
    assert f"ann proposed {proposal_id} and cannot approve it too: a second person must" in error
    assert written(store) == before
    error = refused(capsys, "apply", "--proposal", proposal_id, "--actor", "ann", "--yes")
    assert "is proposed: it cannot be applied" in error
    assert written(store) == before


def test_a_portal_edit_after_approval_refuses_the_proposal_with_the_count(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    proposal_id = approved(capsys)
    change = plan(SPEC, store.snapshot(SPEC)).changes[0]
    point = next(p for p in store.dump().contact_points if p.key == (change.owner_id, change.method))
    edited = attrs.evolve(point, enabled=point.enabled | {Reason.GENERAL}, source=Source.PORTAL)
    store.load(Snapshot(contact_points=[edited]))
    before, points = written(store), store.dump().contact_points
    error = refused(capsys, "apply", "--proposal", proposal_id, "--actor", "carol", "--yes")
    assert f"the district moved since proposal {proposal_id} was approved: planned again, 1 change(s) differ" in error
    assert "propose the batch again" in error
    assert written(store) == before and store.dump().contact_points == points
    assert store.proposals()[0].batch_id is None


def test_an_expired_proposal_is_neither_approved_nor_applied(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=8)
    stale, _ = propose(store, SPEC, actor="ann", policy=ApprovalPolicy(), at=long_ago)
    late, _ = propose(store, SPEC, actor="ann", policy=ApprovalPolicy(), at=long_ago)
    store.approve(late.proposal_id, actor="bob", at=long_ago + datetime.timedelta(hours=1))
    before = written(store)
    assert f"proposal {stale.proposal_id} is expired: it cannot be approved" in refused(
        capsys, "approve", stale.proposal_id, "--actor", "bob"
    )
    assert f"proposal {late.proposal_id} is expired: it cannot be applied" in refused(
        capsys, "apply", "--proposal", late.proposal_id, "--actor", "carol", "--yes"
    )
    assert written(store) == before
    states = [row["state"] for row in json.loads(ok(capsys, "proposals", "--format", "json"))]
    assert states == ["expired", "expired"]


def test_a_withdrawn_proposal_is_final(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    proposal_id = approved(capsys)
    data = json.loads(ok(capsys, "withdraw", proposal_id, "--actor", "ann", "--format", "json"))
    assert (data["state"], data["withdrawn_by"], data["approver"]) == ("withdrawn", "ann", "bob")
    before = written(store)
    assert "is withdrawn: it cannot be applied" in refused(
        capsys, "apply", "--proposal", proposal_id, "--actor", "carol", "--yes"
    )
    assert "is withdrawn: it cannot be withdrawn" in refused(capsys, "withdraw", proposal_id, "--actor", "bob")
    assert written(store) == before
    assert store.history() == ()


def test_proposals_lists_each_state(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    assert ok(capsys, "proposals") == "No proposals yet.\n"
    assert json.loads(ok(capsys, "proposals", "--format", "json")) == []
    long_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=30)
    propose(store, SPEC, actor="ann", policy=ApprovalPolicy(), at=long_ago)
    applied = approved(capsys)
    ok(capsys, "apply", "--proposal", applied, "--actor", "carol", "--yes")
    behavior_on = ("--mode", "students", "--set", "behavior=on")
    withdrawn = proposed(capsys, batch=behavior_on)["proposal_id"]
    ok(capsys, "withdraw", withdrawn, "--actor", "ann")
    approved(capsys, batch=behavior_on)
    proposed(capsys, actor="dan", batch=behavior_on)
    rows = json.loads(ok(capsys, "proposals", "--format", "json"))
    assert [row["state"] for row in rows] == ["expired", "applied", "withdrawn", "approved", "proposed"]
    assert [row["proposer"] for row in rows] == ["ann", "ann", "ann", "ann", "dan"]
    assert [row["approver"] for row in rows] == [None, "bob", None, "bob", None]
    assert rows[1]["batch_id"] == store.history()[0].batch_id
    lines = ok(capsys, "proposals").splitlines()
    assert lines[0].split() == ["Proposal", "State", "Proposer", "Approver", "Changes", "Proposed", "(UTC)",
                                "Expires", "(UTC)", "Batch"]  # fmt: skip
    assert [line.split()[1] for line in lines[2:]] == ["expired", "applied", "withdrawn", "approved", "proposed"]
    assert lines[3].split()[-1] == store.history()[0].batch_id


def test_proposal_ids_are_found_by_prefix_and_unknown_ones_refused(
    store: MemoryStore, capsys: pytest.CaptureFixture[str]
) -> None:
    loaded = len(store.chain())
    proposed(capsys)
    assert "no proposal 'feedface' in this store" in refused(capsys, "approve", "feedface", "--actor", "bob")
    assert "too short" in refused(capsys, "approve", "abc", "--actor", "bob")
    assert "argument PROPOSAL_ID: an empty proposal id names no proposal" in refused(
        capsys, "approve", "", "--actor", "bob"
    )
    assert "'a\\tb' holds a control character, and is not a proposal id" in refused(
        capsys, "withdraw", "a\tb", "--actor", "bob"
    )
    assert written(store) == (0, loaded + 1, 0)


def test_nothing_to_change_records_no_proposal(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    ok(capsys, "apply", *GENERAL_ON, "--actor", "ann", "--yes")
    code, out, err = cli(capsys, "propose", *GENERAL_ON, "--actor", "ann")
    assert code == 0
    assert "Updated preferences: 0\n" in out
    assert err == "contact-prefs: warning: nothing to change: no proposal was recorded\n"
    assert store.proposals() == ()


class Typed(io.StringIO):
    """A terminal's input with the answer already typed."""

    def isatty(self) -> bool:
        return True


def test_apply_of_a_proposal_asks_on_a_terminal_naming_proposer_and_approver(
    store: MemoryStore, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    proposal_id = approved(capsys)
    monkeypatch.setattr("sys.stdin", Typed("n\n"))
    code, out, err = cli(capsys, "apply", "--proposal", proposal_id, "--actor", "carol")
    assert (code, out) == (0, "Nothing was applied.\n")
    assert "Contact Method" in err and "changes, proposed by ann and approved by bob? [y/N]" in err
    assert store.history() == ()
    monkeypatch.setattr("sys.stdin", Typed("y\n"))
    code, out, err = cli(capsys, "apply", "--proposal", proposal_id, "--actor", "carol")
    assert code == 0 and f"Applied proposal {proposal_id}: proposed by ann, approved by bob" in out
    assert store.history()[0].actor == "carol"


# -- apply and the approval policy ---------------------------------------------------


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text('[approval]\nreasons = ["general"]\nexpires_after_days = 2\n', encoding="utf-8")
    return path


@pytest.mark.parametrize("through", ["option", "environment"])
def test_apply_refuses_a_batch_the_policy_sends_to_approval_before_writing(
    store: MemoryStore,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    policy: Path,
    through: str,
) -> None:
    options = ("--policy", str(policy)) if through == "option" else ()
    if through == "environment":
        monkeypatch.setenv("CONTACT_PREFS_POLICY", str(policy))
    points, before = store.dump().contact_points, written(store)
    error = refused(capsys, "apply", *GENERAL_ON, "--actor", "ann", "--yes", *options)
    assert "this batch needs a second person's approval (changes to general need approval)" in error
    assert "propose it, have it approved, then apply the proposal; nothing was written" in error
    assert written(store) == before and store.dump().contact_points == points
    # What the policy does not name applies as before.
    ok(capsys, "apply", "--mode", "students", "--set", "behavior=on", "--actor", "ann", "--yes", *options)
    (entry,) = json.loads(ok(capsys, "history", "--format", "json"))
    assert (entry["actor"], entry["approval"]) == ("ann", None)
    data = proposed(capsys, *options)
    assert data["why"] == "changes to general need approval"
    at, expires = (datetime.datetime.fromisoformat(data[key]) for key in ("at", "expires_at"))
    assert expires - at == datetime.timedelta(days=2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[approval]\nmax_changes = -1\n", ": approval.max_changes: "),
        ('[approval]\nreasons = ["lunch"]\n', ": approval.reasons[0]: "),
        ("[approval]\nreasons = 'general'\n", ": approval.reasons: "),
        ("[approval]\nexpires_after_days = 0\n", ": approval.expires_after_days: "),
        ("[approval]\nmax_change = 10\n", "max_change"),
        ("approval = 3\n", ": approval: must be a table"),
        ("[approval\n", ", line 1, column 10: not valid TOML"),
    ],
)
def test_a_bad_policy_file_is_refused_naming_what_is_wrong(
    store: MemoryStore, capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    before = written(store)
    error = refused(capsys, "apply", *GENERAL_ON, "--actor", "ann", "--yes", "--policy", str(path))
    assert error.startswith(f"contact-prefs: error: {path}")
    assert message in error
    assert written(store) == before


def test_a_missing_policy_file_is_refused(
    store: MemoryStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    error = refused(capsys, "propose", *GENERAL_ON, "--actor", "ann", "--policy", str(tmp_path / "absent.toml"))
    assert "absent.toml: cannot read the policy file: No such file or directory" in error
    assert store.proposals() == ()


def test_a_policy_without_an_approval_table_requires_nothing(
    store: MemoryStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[roles]\nplanner = ["plan", "apply"]\n\n[actors]\nann = ["planner"]\n', encoding="utf-8")
    ok(capsys, "apply", *GENERAL_ON, "--actor", "ann", "--yes", "--policy", str(path))
    assert len(store.history()) == 1


def test_apply_takes_a_proposal_or_a_batch_not_both(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    proposal_id = approved(capsys)
    before = written(store)
    error = refused(capsys, "apply", "--proposal", proposal_id, *GENERAL_ON, "--actor", "carol", "--yes")
    assert "argument --proposal: --mode, --set, --as-of cannot go with --proposal" in error
    error = refused(capsys, "apply", "--actor", "carol", "--yes")
    assert "the following arguments are required: --mode, --set (or --proposal PROPOSAL_ID)" in error
    assert "the following arguments are required: --set" in refused(
        capsys, "apply", "--mode", "students", "--actor", "carol", "--yes"
    )
    assert "--yes" in refused(capsys, "apply", "--proposal", proposal_id, "--actor", "carol")  # stdin is no terminal
    assert written(store) == before


# -- verify -----------------------------------------------------------------------


def two_batches(capsys: pytest.CaptureFixture[str]) -> None:
    ok(capsys, "apply", *GENERAL_ON, "--actor", "ann", "--yes")
    ok(capsys, "apply", "--mode", "students", "--set", "behavior=on", "--actor", "ann", "--yes")


def test_verify_prints_the_head_and_finds_it_later(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    loaded = len(store.chain())
    two_batches(capsys)
    head = store.chain()[-1].hash
    text = ok(capsys, "verify")
    assert text.startswith(f"The history is intact: {loaded + 2} entries, head {head}\n")
    assert "Keep this head elsewhere" in text
    approved(capsys, batch=("--mode", "students", "--set", "teacher=on"))
    later = ok(capsys, "verify", "--expect-head", head.upper())
    assert f"The history is intact: {loaded + 4} entries, head {store.chain()[-1].hash}\n" in later
    assert f"The head {head} is in the chain: nothing recorded up to it was rewritten.\n" in later
    data = json.loads(ok(capsys, "verify", "--format", "json", "--expect-head", head))
    assert data == {
        "intact": True,
        "head": store.chain()[-1].hash,
        "entries": loaded + 4,
        "expect_head": head,
        "problem": None,
        "position": None,
    }


def test_an_empty_history_verifies_with_the_genesis_head(capsys: pytest.CaptureFixture[str]) -> None:
    assert contact_prefs.cli.main(["verify", "--store", "memory://", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["intact"], data["head"], data["entries"]) == (True, GENESIS, 0)


def test_verify_refuses_a_head_not_in_the_chain(store: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    two_batches(capsys)
    other = "ab" * 32
    code, out, err = cli(capsys, "verify", "--expect-head", other)
    assert (code, err) == (1, "")
    assert (
        out
        == f"The history does not verify: the head {other} is not in this chain: the history before it was rewritten.\n"
    )


@pytest.mark.parametrize("head", ["abc", "g" * 64, "a" * 63, ""])
def test_verify_takes_only_a_head_of_64_hex_digits(
    store: MemoryStore, capsys: pytest.CaptureFixture[str], head: str
) -> None:
    error = refused(capsys, "verify", "--expect-head", head)
    assert "argument --expect-head: a head is 64 hexadecimal digits, as verify prints it" in error


def _edit_actor(history: list[Any]) -> None:
    history[0] = attrs.evolve(history[0], actor="mallory")


def _edit_count(history: list[Any]) -> None:
    counts = dict(history[0].counts)
    key = next(iter(counts))
    counts[key] += 1
    history[0] = attrs.evolve(history[0], counts=counts)


def _remove(history: list[Any]) -> None:
    del history[0]


def _swap(history: list[Any]) -> None:
    history[0], history[1] = history[1], history[0]


@pytest.mark.parametrize(
    ("tamper", "finding"),
    [
        (_edit_actor, "batch {first}, chained at position {position}, was changed since it was recorded"),
        (_edit_count, "batch {first}, chained at position {position}, was changed since it was recorded"),
        (_remove, "batch {first}, chained at position {position}, was removed"),
        (_swap, "batch {first}, chained at position {position}, was moved"),
    ],
    ids=["actor edited", "count edited", "batch removed", "batches swapped"],
)
def test_verify_names_the_first_entry_tampered_with(
    memory: MemoryStore, capsys: pytest.CaptureFixture[str], tamper: Any, finding: str
) -> None:
    store = memory
    two_batches(capsys)
    first = store.history()[-1].batch_id
    chained = next(n for n, link in enumerate(store.chain(), 1) if link.key == first)
    tamper(store._history)
    expected = finding.format(first=first, position=chained)
    code, out, err = cli(capsys, "verify")
    assert (code, out, err) == (1, f"The history does not verify: {expected}.\n", "")
    code, out, _ = cli(capsys, "verify", "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert (data["intact"], data["problem"], data["position"]) == (False, expected, chained)


def test_verify_finds_an_edited_chain_link(memory: MemoryStore, capsys: pytest.CaptureFixture[str]) -> None:
    store = memory
    two_batches(capsys)
    store._chain[-1] = attrs.evolve(store._chain[-1], digest="0" * 64)
    code, out, _ = cli(capsys, "verify")
    assert code == 1
    assert f"the link at position {len(store.chain())} (batch {store.history()[0].batch_id}) was edited" in out
