"""The plugin system: finding backends through entry points, opening stores, hooks."""

from __future__ import annotations

import inspect
import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest

import contact_prefs
from contact_prefs import (
    ContactPrefsError,
    Plugins,
    Receipt,
    Snapshot,
    Store,
    StoreError,
    UnknownStoreError,
    hookimpl,
    hookspecs,
    open_store,
    plan,
)
from contact_prefs.testing.store import DISTRICT, SPEC

DOCS = Path(__file__).parent.parent / "docs" / "plugins.md"


def plugin(name: str, **hooks: Callable[..., Any]) -> types.ModuleType:
    """A plugin module named ``name`` holding ``hooks``, each marked as a hook implementation."""
    module = types.ModuleType(name)
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def serving(*schemes: str) -> Callable[..., None]:
    def contact_prefs_register_stores(register: hookspecs.RegisterStore) -> None:
        for scheme in schemes:
            register(scheme, lambda url: contact_prefs.open_store("memory://"))

    return contact_prefs_register_stores


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, str, str], None]]:
    """Install a distribution for this test: ``install(name, entry_points, module_source)``.

    It is a real one: a ``<name>-1.0.dist-info`` folder with its METADATA and
    entry_points.txt next to the module, on ``sys.path``, as pip would leave it.
    """
    site = tmp_path / "site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))  # also clears importlib's finder caches
    installed: list[str] = []

    def install(name: str, entry_points: str, source: str) -> None:
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
        (site / f"{name}.py").write_text(textwrap.dedent(source))
        installed.append(name)

    yield install
    for name in installed:
        sys.modules.pop(name, None)


FAKE_BACKEND = """
    import contact_prefs
    from contact_prefs_memory import MemoryStore

    opened = []
    heard = []

    def open_fake(url):
        opened.append(url)
        return MemoryStore()

    @contact_prefs.hookimpl
    def contact_prefs_register_stores(register):
        register("fake", open_fake)

    @contact_prefs.hookimpl
    def contact_prefs_after_commit(store, receipt):
        heard.append(receipt)
"""


# -- opening stores ---------------------------------------------------------


def test_memory_url_opens_a_fresh_empty_store() -> None:
    with open_store("memory://") as first, open_store("memory://") as second:
        assert isinstance(first, Store)
        first.load(DISTRICT)
        assert len(first.dump()) == len(DISTRICT)
        assert len(second.dump()) == 0
        assert second.history() == ()


def test_memory_url_takes_no_path() -> None:
    with pytest.raises(StoreError, match="memory://"):
        open_store("memory://somewhere")


def test_bundled_backends_register_through_entry_points() -> None:
    plugins = Plugins.load()
    assert "memory" in plugins.stores()
    assert plugins.manager.get_plugin("memory") is not None  # found by its entry point's name


@pytest.mark.parametrize("url", ["nosuch://x", "memory", "", "MEMORY-ish:/x"])
def test_an_unknown_scheme_lists_the_registered_ones(url: str) -> None:
    registered = sorted(Plugins.load().stores())
    with pytest.raises(UnknownStoreError) as raised:
        open_store(url)
    assert isinstance(raised.value, LookupError)
    assert isinstance(raised.value, ContactPrefsError)
    assert raised.value.schemes == tuple(registered)
    assert ", ".join(registered) in str(raised.value)


def test_two_plugins_claiming_one_scheme_are_both_named() -> None:
    plugins = Plugins.load(extra=[plugin("first_backend", contact_prefs_register_stores=serving("dup"))])
    plugins.manager.register(plugin("second_backend", contact_prefs_register_stores=serving("other", "dup")))
    with pytest.raises(ContactPrefsError, match="'dup'") as raised:
        plugins.open_store("dup://")
    assert "first_backend" in str(raised.value)
    assert "second_backend" in str(raised.value)


def test_a_plugin_cannot_take_over_a_bundled_scheme() -> None:
    plugins = Plugins.load(extra=[plugin("impostor", contact_prefs_register_stores=serving("memory"))])
    with pytest.raises(ContactPrefsError) as raised:
        plugins.open_store("memory://")
    assert "'memory'" in str(raised.value)
    assert "impostor" in str(raised.value)


def test_a_misspelled_hook_is_rejected_when_plugins_load() -> None:
    def contact_prefs_after_comit(store: Store, receipt: Receipt) -> None:
        """Misspelled: it would never be called."""

    with pytest.raises(pluggy.PluginValidationError, match="contact_prefs_after_comit"):
        Plugins.load(extra=[plugin("typo", contact_prefs_after_comit=contact_prefs_after_comit)])


# -- hooks ------------------------------------------------------------------


def test_observers_hear_every_commit_and_undo() -> None:
    heard: list[tuple[Store, Receipt]] = []
    observer = plugin("observer", contact_prefs_after_commit=lambda store, receipt: heard.append((store, receipt)))
    with Plugins.load(extra=[observer]).open_store("memory://") as store:
        store.load(DISTRICT)
        assert heard == []
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        undone = store.undo(done.batch_id, actor="staff")
        assert [receipt for _, receipt in heard] == [done, undone]
        assert undone.undoes == done.batch_id
        heard_store = heard[0][0]
        assert [record.batch_id for record in heard_store.history()] == [undone.batch_id, done.batch_id]


def test_observers_do_not_hear_a_failed_commit() -> None:
    heard: list[Receipt] = []
    observer = plugin("observer", contact_prefs_after_commit=lambda store, receipt: heard.append(receipt))
    with Plugins.load(extra=[observer]).open_store("memory://") as store:
        store.load(DISTRICT)
        stale = plan(SPEC, store.snapshot(SPEC))
        store.commit(stale, actor="staff")
        with pytest.raises(contact_prefs.ConflictError):
            store.commit(stale, actor="staff")
        with pytest.raises(contact_prefs.UnknownBatchError):
            store.undo("0" * 32, actor="staff")
    assert len(heard) == 1


def test_an_observer_error_reaches_the_caller_and_the_write_stays() -> None:
    def refuse(store: Store, receipt: Receipt) -> None:
        raise RuntimeError("audit export is down")

    with Plugins.load(extra=[plugin("audit", contact_prefs_after_commit=refuse)]).open_store("memory://") as store:
        store.load(DISTRICT)
        with pytest.raises(RuntimeError, match="audit export is down"):
            store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        assert len(store.history()) == 1
        assert len(plan(SPEC, store.snapshot(SPEC))) == 0


def test_every_hook_is_documented() -> None:
    """Each hook's name and parameters appear in docs/plugins.md."""
    page = DOCS.read_text()
    hooks = [
        function
        for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
        if hasattr(function, f"{hookspecs.PROJECT}_spec")
    ]
    assert hooks, "no hook specifications found"
    for hook in hooks:
        parameters = ", ".join(inspect.signature(hook).parameters)
        assert f"{hook.__name__}({parameters})" in page, f"{hook.__name__} is not documented in {DOCS.name}"


# -- third-party backends, installed as real distributions -------------------


def test_a_third_party_backend_is_found_by_its_entry_point(install: Callable[[str, str, str], None]) -> None:
    install("fakebackend", "[contact_prefs]\nfake = fakebackend\n", FAKE_BACKEND)
    assert "fake" in Plugins.load().stores()
    with open_store("fake://anything") as store:
        assert isinstance(store, Store)
        store.load(DISTRICT)
        receipt = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
    fakebackend = sys.modules["fakebackend"]
    assert fakebackend.opened == ["fake://anything"]
    assert fakebackend.heard == [receipt]


def test_a_third_party_observer_hears_commits_to_bundled_stores(install: Callable[[str, str, str], None]) -> None:
    install("fakebackend", "[contact_prefs]\nfake = fakebackend\n", FAKE_BACKEND)
    with open_store("memory://") as store:
        store.load(DISTRICT)
        done = store.commit(plan(SPEC, store.snapshot(SPEC)), actor="staff")
        undone = store.undo(done.batch_id, actor="staff")
    assert sys.modules["fakebackend"].heard == [done, undone]


def test_a_missing_dependency_breaks_only_its_own_scheme(install: Callable[[str, str, str], None]) -> None:
    install(
        "brokenbackend",
        "[contact_prefs]\nbroken = brokenbackend\n",
        """
        import contact_prefs

        def open_broken(url):
            import a_driver_that_is_not_installed  # imported lazily, as plugins.md asks

        @contact_prefs.hookimpl
        def contact_prefs_register_stores(register):
            register("broken", open_broken)
        """,
    )
    with pytest.raises(
        StoreError, match=r"'broken' store backend cannot start: it needs 'a_driver_that_is_not_installed'"
    ):
        open_store("broken://db")
    with open_store("memory://") as store:
        store.load(Snapshot())
        assert len(store.dump()) == 0
