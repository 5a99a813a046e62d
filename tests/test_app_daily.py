"""What a privacy officer does every day, under Streamlit's AppTest on the Twilio seed (a real
store, the real engine; nothing mocked): the aggregated explorer and its drill-down, a hop's
details, two dates compared, the as-of date, the register form after a proposal, the review
page's state, and words (not ids or enum values) wherever a person reads."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from app_support import (
    PAGES,
    fill_register,
    frames,
    open_app,
    pick_row,
    proposals,
    seeded_env,
    submit_proposal,
    table,
    texts,
)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from seeded_env(tmp_path, monkeypatch)


# --- the explorer ---------------------------------------------------------------------------------
def test_drill_down_from_a_group_to_a_hop_in_two_clicks(db: Path) -> None:
    at = open_app("viewer", "flow_explorer")
    at.selectbox(key="fx_category").select("content").run()
    groups = table(at, "need attention", 0)
    assert {"step", "group", "hops", "need attention", "statuses"} <= set(groups.columns)
    row = list(groups["group"]).index("Twilio Inc. (US)")
    pick_row(at, "fx_groups", row)  # click 1: the group
    assert "Hops of the picked group" in [s.value for s in at.subheader]
    hops = table(at, "reason")
    assert len(hops) == groups["hops"][row] and set(hops["to"]) <= {
        "Communications platform and APIs (US)", "Stored communication records (US)",
        "Communications edge in the EU (IE)"}
    pick_row(at, "fx_hops_table", 0)  # click 2: the hop
    assert "Hop details" in [s.value for s in at.subheader]
    assert f"{hops['from'][0]}  →  {hops['to'][0]}" in texts(at)


def test_a_tap_on_the_graph_drills_down_too(db: Path) -> None:
    at = open_app("viewer", "flow_explorer")
    at.selectbox(key="fx_category").select("content").run()
    groups = table(at, "need attention", 0)
    at.segmented_control(key="fx_view").set_value("Graph").run()
    row = list(groups["group"]).index("Twilio Inc. (US)")
    at.session_state["fx_graph"] = {"action": "tap", "data": {"type": "tap", "target_id": f"g{row}",
                                                              "target_group": "nodes"}, "timestamp": 1}
    at.run()
    assert "Twilio Inc. (US)" in texts(at) and len(table(at, "reason")) == groups["hops"][row]
    at.selectbox(key="fx_by").select("kind").run()  # another view: the pick is cleared
    assert "Hops of the picked group" not in [s.value for s in at.subheader]


def test_the_chart_has_a_legend_for_every_colour(db: Path) -> None:
    at = open_app("viewer", "flow_explorer", day=date(2021, 1, 1))
    at.selectbox(key="fx_category").select("account").run()
    legend = at.get("html")[0].proto.body
    spec = at.get("plotly_chart")[0].proto.spec
    from app_pages._words import STATUS_COLOURS, status_word
    for status, colour in STATUS_COLOURS.items():
        r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        if f"rgba({r},{g},{b}" in spec:  # a band of this colour is drawn: the legend names it
            assert colour in legend and status_word(status) in legend, status


def test_hop_details_show_each_regime_the_tool_and_the_fix(db: Path) -> None:
    at = open_app("viewer", "flow_explorer", day=date(2021, 1, 1))
    at.selectbox(key="fx_category").select("content").run()
    at.multiselect(key="fx_hops_status").set_value(["invalid"]).run()
    at.multiselect(key="fx_hops_tool").set_value(["eu-us-privacy-shield"]).run()
    pick_row(at, "fx_hops_table", 0)
    regimes = table(at, "decision or mechanism")
    assert {"EU GDPR"} <= set(regimes["regime"]) and "INVALID" in set(regimes["status"])
    assert "EU-US Privacy Shield" in " ".join(regimes["decision or mechanism"])
    shown = texts(at)
    assert "Transfer on an invalid tool" in shown and "Replace" in shown  # the finding and its fix
    assert any("Registry id" in m.value for m in at.markdown)


# --- two dates ---------------------------------------------------------------------------------
def test_compare_dates_from_the_explorer(db: Path) -> None:
    at = open_app("viewer", "flow_explorer", day=date(2020, 7, 16))
    at.selectbox(key="fx_category").select("content").run()
    [b for b in at.button if b.label == "Compare with another date"][0].click().run()
    assert at.title[0].value == "Compare dates"
    assert at.text_input(key="cmp_before_text").value == "2019-07-17"
    assert at.selectbox(key="cmp_category").value == "content"
    at.switch_page("app_pages/compare.py")  # AppTest reruns the page it was told, not the one switched to
    at.text_input(key="cmp_before_text").input("2020-07-15")
    [b for b in at.button if b.label == "Compare"][0].click().run()
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Hops whose status changed"]) >= 1
    changed = table(at, "reason now", 0)
    viber = changed[changed["from"] == "Viber Media S.à r.l. (LU)"]
    assert list(viber["before"]) == ["adequate"] and list(viber["after"]) == ["INVALID"]
    pick_row(at, "cmp_table", list(changed["from"]).index("Viber Media S.à r.l. (LU)"))
    headings = [s.value for s in at.subheader]
    assert "On 15 Jul 2020" in headings and "On 16 Jul 2020" in headings  # side by side
    assert any("Resolved findings" in h for h in headings) and any("New findings" in h for h in headings)


def test_compare_dates_is_reachable_from_transfers_and_findings(db: Path) -> None:
    for page in ("transfers", "findings"):
        at = open_app("viewer", page)
        [b for b in at.button if b.label == "Compare with another date"][0].click().run()
        assert at.title[0].value == "Compare dates" and not at.exception


def test_a_key_date_compares_the_day_before_with_the_day_of(db: Path) -> None:
    at = open_app("viewer", "compare")
    key = at.selectbox(key="cmp_key_date")
    key.select_index([i for i, o in enumerate(key.options) if "Privacy Shield ends" in o][0]).run()
    assert at.text_input(key="cmp_before_text").value == "2020-07-15"
    assert at.text_input(key="cmp_after_text").value == "2020-07-16"
    assert int({m.label: m.value for m in at.metric}["New findings"]) >= 1


def test_a_bad_date_in_the_comparison_names_the_field(db: Path) -> None:
    at = open_app("viewer", "compare")
    at.text_input(key="cmp_after_text").input("2020-02-30")
    [b for b in at.button if b.label == "Compare"][0].click().run()
    assert any("Second date" in e.value and "is not a date" in e.value for e in at.error)


# --- the as-of date ---------------------------------------------------------------------------------
def test_the_date_applies_from_the_form_and_a_bad_one_is_refused(db: Path) -> None:
    at = open_app("viewer", "findings")
    at.text_input(key="as_of_text").input("2020-07-16")
    [b for b in at.button if b.label == "Apply"][0].click().run()  # Enter submits the same form
    assert at.session_state["as_of"] == date(2020, 7, 16)
    assert any("16 Jul 2020" in c.value for c in at.caption)
    at.text_input(key="as_of_text").input("16/07/2020")
    [b for b in at.button if b.label == "Apply"][0].click().run()
    assert at.session_state["as_of"] == date(2020, 7, 16)
    assert any("16/07/2020" in e.value and "is not a date" in e.value for e in at.error)


# --- register and review ---------------------------------------------------------------------------------
def test_the_register_form_resets_after_a_proposal_and_warns_about_a_duplicate(db: Path) -> None:
    at = open_app("engineer", "register")
    assert not at.success  # nothing was saved yet
    fill_register(at)
    submit_proposal(at)
    saved = [s.value for s in at.success if "saved for review" in s.value]
    assert len(saved) == 1 and "Proposal #1 saved" in saved[0]
    # values set back (not deleted: a deleted key leaves the browser showing the old values)
    for key, empty in (("reg_id", ""), ("reg_name", ""), ("reg_purpose", ""), ("reg_categories", [])):
        assert key in at.session_state and at.session_state[key] == empty, key
    assert at.text_input(key="reg_id").value == ""

    fill_register(at)  # the same sub-processor again
    assert any("An identical proposal is already open: #1" in w.value for w in at.warning)
    submit_proposal(at)
    assert any("Not filed: an identical proposal is already open" in e.value for e in at.error)
    assert len(proposals(db)) == 1
    at.checkbox(key="reg_again").check()
    submit_proposal(at)
    assert len(proposals(db)) == 2

    fill_register(at, name="SpeechCo Oyj")  # same id, other details: warned, still allowed
    assert any("also adds" in w.value for w in at.warning)


def test_review_state_belongs_to_one_proposal(db: Path) -> None:
    at = open_app("engineer", "register")
    fill_register(at)
    submit_proposal(at, "first")
    fill_register(at, party_id="voxscribe", name="VoxScribe Ltd")
    submit_proposal(at, "second")
    at.session_state["flowreg_user"] = __import__("app_support").USERS["officer"]
    at.switch_page("app_pages/review.py")
    at.run()
    at.text_input(key="rv_note_1").input("DPA signed for the first")
    at.selectbox(key="rv_choice").select(2).run()
    assert at.text_input(key="rv_note_2").value == ""  # the first one's note stays with the first
    at.selectbox(key="rv_choice").select(1).run()
    assert at.text_input(key="rv_note_1").value == "DPA signed for the first"
    [b for b in at.button if b.label == "Approve"][0].click().run()
    assert any("approved: revision 2 written" in s.value for s in at.success)
    notice = frames(at)
    assert "None" not in notice and "SpeechCo Oy" in notice  # the change notice, without "None"
    # the second was made on revision 1: the page says approval would fail, and Approve is off
    assert at.selectbox(key="rv_choice").value == 2 and at.text_input(key="rv_note_2").value == ""
    assert any("cannot be approved" in w.value for w in at.warning)
    approve = [b for b in at.button if b.label == "Approve"][0]
    assert approve.disabled
    assert not [b for b in at.button if b.label == "Reject"][0].disabled


# --- words, not ids ---------------------------------------------------------------------------------
RAW = {"not_required", "third_party", "service_provider", "ott_provider", "addon_partner", "data_source",
       "joint_controller", "subprocessor-unlisted", "subprocessor-no-notice", "transfer-invalid",
       "transfer-uncovered", "derogation-routine", "location-unknown"}


@pytest.mark.parametrize("page", [*PAGES, "compare"])
def test_no_enum_value_or_rule_id_where_a_person_reads(db: Path, page: str) -> None:
    at = open_app("officer", page, day=date(2021, 1, 1))
    cells = {str(cell).strip() for df in at.dataframe for cell in df.value.to_numpy().ravel()}
    shown = cells | {t.value for t in at.text} | {m.label for m in at.metric} | {str(m.value) for m in at.metric}
    assert not RAW & shown, (page, RAW & shown)
    assert not any(word in c.value for c in at.caption for word in RAW), page


def test_the_default_date_is_today_and_a_year_before_for_the_comparison(db: Path) -> None:
    at = open_app("viewer", "compare", day=date.today())
    assert at.text_input(key="cmp_after_text").value == date.today().isoformat()
    assert at.text_input(key="cmp_before_text").value == (date.today() - timedelta(days=365)).isoformat()


def test_regimes_are_named_as_the_law_stood_on_the_date(db: Path) -> None:
    """Before 2018-05-25 the EU rules were Directive 95/46/EC, and Swiss ones the FADP of 1992
    until 2023-08-31: the findings name them so (law file: regimes' names by period)."""
    before = frames(open_app("viewer", "findings", day=date(2018, 5, 24)))
    assert "EU Directive 95/46/EC" in before and "EU GDPR" not in before
    assert "Swiss FADP of 1992" in before
    after = frames(open_app("viewer", "findings", day=date(2024, 1, 1)))
    assert "EU GDPR" in after and "Directive 95/46/EC" not in after and "of 1992" not in after
