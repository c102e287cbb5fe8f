"""Who a take credits: its royalties as the ledger recorded them, and the attribution record
that travels inside exported files.

A take's royalties are fixed when it is made (the generation event's ``royalties``, from the
splits in force then): a split corrected later changes new takes, never a take already logged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from musicapp.core import RightsHolder, holder_shares
from musicapp.core.codec import reference_to_dict

if TYPE_CHECKING:
    from musicapp.catalog.store import CatalogStore
    from musicapp.takes import Take


def royalties(take: Take, catalog: CatalogStore) -> list[tuple[RightsHolder, float]]:
    """Each rights holder's share of the take's royalties, largest first: as logged with the
    take, or (older takes without them) from the splits the songs have now."""
    shares = dict(take.royalties)
    if not shares:
        shares = holder_shares(take.provenance, catalog.songs(take.provenance.song_shares()))
    known = {h.id: h for h in catalog.consent.holders()}
    holders = [(known.get(h) or RightsHolder(h, h, "unknown"), s) for h, s in shares.items()]
    return sorted(holders, key=lambda hs: (-hs[1], hs[0].name))


def attribution(take: Take, catalog: CatalogStore) -> dict[str, Any]:
    """The attribution record that travels inside exported files."""
    songs = catalog.songs(list(take.provenance.song_shares()))
    refs = []
    for share in take.provenance.shares:
        if share.is_user:
            continue
        ref = take.request.references[share.reference_index]
        song = songs.get(share.song_id)
        refs.append(
            {
                **reference_to_dict(ref),
                "title": song.title if song else "",
                "artist": song.artist if song else "",
                "share": round(share.share, 9),
            }
        )
    return {
        "generation_event_id": take.id,
        "verification_event_id": take.verification_event_id,
        "use": take.request.use.value,
        "engine": take.provenance.engine,
        "model": take.provenance.model,
        "device": take.provenance.device,
        "references": refs,
        # The part of the take that is the user's own audio: nobody's royalties.
        "user_share": round(take.provenance.user_share, 9),
        "notes": list(take.provenance.notes),
        "rights_holders": [
            {"id": h.id, "name": h.name, "share": round(s, 9)} for h, s in royalties(take, catalog)
        ],
    }
