"""Saved imported layers follow the scenarios' rule: a save based on an outdated version is refused
with a message, never a silent replacement of another session's layer (issue 12)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_pages import APP, TIMEOUT, _imported_layer

pytestmark = pytest.mark.usefixtures("isolated_app")


def _session(layer) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["imports"] = {layer.name: layer}
    at.run()
    at.switch_page("pages/imports.py")
    at.run()
    assert not at.exception and not at.error
    return at


def _save(at: AppTest) -> tuple[list[str], list[str]]:
    at.button(key="import_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    def plain(text: str) -> str:  # shown through markdown_text, which escapes markdown
        return text.replace("\\", "")

    return [plain(s.value) for s in at.success], [plain(e.value) for e in at.error]


def test_two_sessions_saving_a_layer_under_one_name_never_replace_each_other_silently():
    from geo.scenarios import ScenarioStore

    mine, theirs = _imported_layer(), _imported_layer()
    theirs.frame.loc[0, "name"] = "their version"
    first, second = _session(mine), _session(theirs)
    saved, errors = _save(first)
    assert saved == ["Saved “my sites” (version 1)."] and not errors
    saved, errors = _save(second)  # it never saw version 1: refused, and it says what to do
    assert not saved and len(errors) == 1 and "already exists" in errors[0] and "my sites" in errors[0]
    store = ScenarioStore()
    layer, version = store.load_layer("my sites")
    assert version == 1 and layer["name"].iloc[0] != "their version"
    saved, errors = _save(first)  # the session that saved it may save it again
    assert saved == ["Saved “my sites” (version 2)."] and not errors

    # The second session opens the saved layer (version 2); the first saves again (version 3):
    # the second's save is now based on an outdated version and is refused.
    second.selectbox(key="import_saved_pick").select("my sites").run()
    second.button(key="import_saved_open").click().run()
    assert _save(first)[0] == ["Saved “my sites” (version 3)."]
    saved, errors = _save(second)
    assert not saved and len(errors) == 1 and "version 3" in errors[0] and "version 2" in errors[0]
    assert store.load_layer("my sites")[1] == 3
