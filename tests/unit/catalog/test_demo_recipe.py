"""build_demo renders a recipe it is given (the audit harness's larger catalogue) like the demo."""

from __future__ import annotations

import json

from musicapp.catalog.demo import build_demo
from musicapp.catalog.recipe import _RESOURCES, RECIPE_RESOURCE, parse_recipe
from musicapp.catalog.store import CatalogStore


def test_a_given_recipe_is_rendered_instead_of_the_packaged_one(tmp_path):
    data = json.loads((_RESOURCES / RECIPE_RESOURCE).read_text("utf-8"))
    tune = dict(data["songs"][1], id="harness-music-in-the-glen", consent="full")
    data["songs"] = [tune]
    store = CatalogStore(tmp_path / "catalog.sqlite", tmp_path / "audio")
    try:
        assert build_demo(store, recipe=parse_recipe(data)) == 1
        assert store.song_ids() == ["harness-music-in-the-glen"]
        song = store.song("harness-music-in-the-glen")
        assert song is not None and song.title == "Music in the Glen" and song.stems
        assert build_demo(store, recipe=parse_recipe(data)) == 0  # reused, not rebuilt
    finally:
        store.close()
