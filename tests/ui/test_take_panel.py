"""The take panel: the "Learned from" tab (a composer take's training songs, with both methods'
scores and the pool's policy; a take from an engine that learned from no one says so) and the
royalty table (no rows of nothing)."""

from __future__ import annotations

from dataclasses import replace

from ui_fakes import FakePlayer

from musicapp.core import GenerationRequest, Reference, Use
from musicapp.jobs import CancelToken
from musicapp.ui.job_runner import JobRunner
from musicapp.ui.result_widget import ResultWidget

TRAINING = {
    "model_id": "composer-test",
    "training_event_id": "ev1",
    "policy": "flat",
    "training_songs": 52,
    "estimate_method": "unlearning",
    "songs": {"aird-0021": 0.6, "ryans-soldiers-joy": 0.4},
    "public_domain_part": 0.25,
    "top": [
        {"id": "aird-0021", "kind": "song", "title": "The Campbells Are Coming",
         "trak": 0.72, "unlearning": 8.06},
        {"id": "pd:bach/bwv79.3", "kind": "public_domain", "title": "Chorale 79.3",
         "trak": 0.1, "unlearning": 5.0},
        {"id": "ryans-soldiers-joy", "kind": "song", "title": "Soldier's Joy",
         "trak": -0.004, "unlearning": 2.81},
    ],
}  # fmt: skip


def _panel(qtbot, fake_studio, tmp_path):
    panel = ResultWidget(fake_studio, JobRunner(), tmp_path, FakePlayer())
    qtbot.addWidget(panel)
    request = GenerationRequest((Reference("s1"),), duration_s=4.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    return panel, take


def test_a_composer_take_lists_the_training_songs_it_leaned_on(qtbot, fake_studio, tmp_path):
    panel, take = _panel(qtbot, fake_studio, tmp_path)
    prov = replace(take.provenance, engine="composer", training=TRAINING)
    panel.show_take(replace(take, provenance=prov), fake_studio.songs)
    assert panel.details.isTabEnabled(panel.TRAINING_TAB)
    table = panel.training.table
    rows = [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]
    assert rows == [
        ["The Campbells Are Coming", "catalogue", "+8.060", "+0.720", "60.0 %"],
        ["Chorale 79.3", "public domain", "+5.000", "+0.100", "—"],
        ["Soldier's Joy", "catalogue", "+2.810", "-0.004", "40.0 %"],
    ]
    assert table.item(0, 0).toolTip() == "The Campbells Are Coming (catalogue song)"
    policy = panel.training.policy.text()
    assert "paid flat-rate over the 52 catalogue songs composer-test learned from" in policy
    assert "The Campbells Are Coming 60%, Soldier's Joy 40%" in policy
    assert "Public-domain tunes: 25% of the influence, owed to no one" in policy


def test_a_take_of_an_engine_that_learned_from_no_one_says_so(qtbot, fake_studio, tmp_path):
    panel, take = _panel(qtbot, fake_studio, tmp_path)
    panel.show_take(take, fake_studio.songs)
    assert not panel.details.isTabEnabled(panel.TRAINING_TAB)
    assert "learned from no one's music" in panel.training.policy.text()
    assert panel.training.table.rowCount() == 0


def test_the_royalty_table_has_no_zero_rows_and_says_when_a_share_is_tiny(
    qtbot, fake_studio, tmp_path
):
    from musicapp.core import RightsHolder

    panel, take = _panel(qtbot, fake_studio, tmp_path)
    owed = [
        (RightsHolder("a", "Ana"), 0.9996),
        (RightsHolder("b", "Ben"), 0.0004),
        (RightsHolder("c", "Cleo"), 0.0),
    ]
    fake_studio.royalties = lambda _take: owed
    panel.show_take(take, fake_studio.songs)
    table = panel.royalty_table
    rows = [(table.item(r, 0).text(), table.item(r, 2).text()) for r in range(table.rowCount())]
    assert rows == [("Ana", "100.0 %"), ("Ben", "< 0.1 %")]


def test_the_legend_shows_weight_beside_share_and_says_why_they_differ(
    qtbot, fake_studio, tmp_path
):
    from PySide6.QtWidgets import QLabel

    from musicapp.core import SourceShare

    panel = ResultWidget(fake_studio, JobRunner(), tmp_path, FakePlayer())
    qtbot.addWidget(panel)
    request = GenerationRequest((Reference("s1", weight=3.0), Reference("s2", weight=1.0)),
                                duration_s=4.0)  # fmt: skip
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    even = (SourceShare(0, "s1", 0.5), SourceShare(1, "s2", 0.5))
    panel.show_take(replace(take, provenance=replace(take.provenance, shares=even)),
                    fake_studio.songs)  # fmt: skip
    texts = [w.text() for w in panel.legend.findChildren(QLabel)]
    assert "weight 75 % →" in texts and "weight 25 % →" in texts
    assert panel.legend.why.startswith("Shares are the parts of the take each song is heard in")
    # Shares that follow the weights need no explanation.
    close = (SourceShare(0, "s1", 0.75), SourceShare(1, "s2", 0.25))
    panel.show_take(replace(take, provenance=replace(take.provenance, shares=close)),
                    fake_studio.songs)  # fmt: skip
    assert panel.legend.why == ""


def test_holders_are_grouped_under_the_song_they_are_paid_for(qtbot, fake_studio, tmp_path):
    """Issue 19: "the royalty table does not say which song a holder belongs to". Estate 1
    holds part of Song 1 and of Song 3: it appears under each, with its part of the take."""
    panel = ResultWidget(fake_studio, JobRunner(), tmp_path, FakePlayer())
    qtbot.addWidget(panel)
    request = GenerationRequest(
        (Reference("s1", weight=3.0), Reference("s3", weight=1.0)), duration_s=4.0
    )
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    panel.show_take(take, fake_studio.songs)
    table = panel.royalty_table
    rows = [tuple(table.item(r, c).text() for c in range(3)) for r in range(table.rowCount())]
    assert rows == [
        ("Song 1", "song", "75.0 %"),
        ("   Holder 1", "composer", "45.0 %"),
        ("   Estate 1", "publisher", "30.0 %"),
        ("Song 3", "song", "25.0 %"),
        ("   Holder 3", "composer", "15.0 %"),
        ("   Estate 1", "publisher", "10.0 %"),
    ]
    assert table.item(2, 0).toolTip() == "Estate 1 (publisher): 40% of “Song 1” × 75.0% of the take"
    assert table.item(0, 0).font().bold() and not table.item(1, 0).font().bold()


def _priced_take(qtbot, fake_studio, tmp_path):
    panel = ResultWidget(fake_studio, JobRunner(), tmp_path, FakePlayer())
    qtbot.addWidget(panel)
    refs = (Reference("s1", weight=3.0), Reference("s3", weight=1.0))
    request = GenerationRequest(refs, use=Use.NON_COMMERCIAL, duration_s=4.0)
    return panel, fake_studio.generate_job(request).run(lambda _p: None, CancelToken())


def test_each_holder_shows_the_amount_of_this_take_at_their_price(qtbot, fake_studio, tmp_path):
    """Issue 19: "the royalty table ... shows no prices or amounts". With a rights server's
    prices, each holder's amount for this take (share × their price for the take's use tier),
    each song's total, and a line with the take at its tier and at the others."""
    rooms = fake_studio.compensation
    rooms.server = "https://rights.example.org"
    rooms.prices = {
        ("s1", "h1"): {"private": 0.0, "non_commercial": 0.10, "commercial": 0.40},
        ("s1", "e1"): {"non_commercial": 0.05},
    }  # Song 3's holders published no prices
    panel, take = _priced_take(qtbot, fake_studio, tmp_path)
    panel.show_take(take, fake_studio.songs)
    panel.show()
    table = panel.royalty_table
    assert table.horizontalHeaderItem(3).text() == "Amount" and not table.isColumnHidden(3)
    rows = [tuple(table.item(r, c).text() for c in (0, 2, 3)) for r in range(table.rowCount())]
    assert rows == [
        ("Song 1", "75.0 %", "€0.06"),
        ("   Holder 1", "45.0 %", "€0.045"),  # 45 % of the take × €0.10
        ("   Estate 1", "30.0 %", "€0.015"),
        ("Song 3", "25.0 %", "—"),
        ("   Holder 3", "15.0 %", "—"),
        ("   Estate 1", "10.0 %", "—"),
    ]
    tip = table.item(1, 3).toolTip()
    assert "45.0% of the take × €0.10 (non-commercial distribution at song level" in tip
    assert "consent version 1 from rights.example.org" in tip
    assert "Their prices: private use €0.00 · non-commercial distribution €0.10 · commercial" in tip
    assert "published consent version 1 without prices" in table.item(4, 3).toolTip()
    line = panel.price_label.text()
    assert line.startswith("This take, for non-commercial distribution: €0.06 (2 holders")
    assert line.endswith("At the other tiers: private use €0.00 · commercial distribution €0.18.")
    assert panel.price_label.isVisible()
    assert panel.price_label.toolTip() == (
        "Prices from rights.example.org, as published with the consent versions the take relied on"
    )
    # On a narrow panel (1024 px screens) the names get the Type column's room.
    panel.resize(1000, 700)
    qtbot.waitUntil(lambda: not table.isColumnHidden(1))
    panel.resize(300, 700)
    qtbot.waitUntil(lambda: table.isColumnHidden(1))
    assert not table.isColumnHidden(3)


def test_without_a_rights_server_the_panel_says_where_prices_come_from(
    qtbot, fake_studio, tmp_path
):
    panel, take = _priced_take(qtbot, fake_studio, tmp_path)
    panel.show_take(take, fake_studio.songs)
    assert panel.royalty_table.isColumnHidden(3)  # no column of dashes
    assert panel.price_label.text().startswith(
        "No prices or amounts: each holder's prices are kept by a rights server, and none is set"
    )
    # Prices that cannot be read are said, and the take is still shown.
    fake_studio.compensation.prices_error = "the catalogue is locked"
    panel.show_take(take, fake_studio.songs)
    assert panel.price_label.text() == "Prices could not be read: the catalogue is locked"
    assert panel.royalty_table.rowCount() == 6 and panel.take is take


def test_prices_a_sync_brings_show_on_the_take_already_shown(qtbot, fake_context, fake_studio):
    """The take is shown before the rights server's prices arrive; the sync that brings them
    fills the Amount column without reopening the take."""
    from musicapp.ui.main_window import MainWindow

    window = MainWindow(fake_context)
    qtbot.addWidget(window)
    request = GenerationRequest((Reference("s1"),), use=Use.NON_COMMERCIAL, duration_s=4.0)
    take = fake_studio.generate_job(request).run(lambda _p: None, CancelToken())
    window.result.show_take(take, fake_studio.songs)
    table = window.result.royalty_table
    assert table.isColumnHidden(3)
    rooms = fake_studio.compensation
    rooms.server = "https://rights.example.org"
    rooms.prices = {("s1", "h1"): {"non_commercial": 0.10}, ("s1", "e1"): {"non_commercial": 0.0}}
    window.sync.synced.emit(None)
    assert not table.isColumnHidden(3)
    assert table.item(1, 3).text() == "€0.06"  # Holder 1: 60 % of the take × €0.10
