"""The `musicapp` commands of mediated selection: prompt, suggest, categories.

Each prints which embedding answered; with ``--use`` (and ``--level``) every song listed was
verified usable for them by the consent service, as a request would be.
"""

from __future__ import annotations

import argparse
from typing import Any

from musicapp.cli_common import EXIT_OK, emit, open_context, run_with_progress
from musicapp.core import InvalidInput, Level, Use
from musicapp.core.codec import song_to_dict


def _use_level(args: argparse.Namespace) -> tuple[Use | None, Level | None]:
    try:
        use = Use(args.use) if args.use else None
        level = Level(args.level) if args.level else None
    except ValueError as exc:
        raise InvalidInput(f"--use/--level: {exc}") from None
    if level is not None and use is None:
        raise InvalidInput("--level filters by consent for a use: give --use too")
    return use, level


def _indexed(ctx: Any, args: argparse.Namespace) -> None:
    """Embed the songs not embedded yet (first use, or after an import), with progress."""
    job = ctx.studio.selection.index_job()
    if job is not None:
        run_with_progress("index", job.run, args.progress)


def ranking_to_dict(ranking: Any) -> dict[str, Any]:
    return {
        "query": ranking.query,
        "embedding": ranking.embedding,
        "filtered_for": ranking.filtered_for,
        "notes": list(ranking.notes),
        "candidates": [
            {
                "song": song_to_dict(c.song),
                "score": c.score,
                "why": c.why,
                "long_tail": c.long_tail,
                "verified": c.usable,
            }
            for c in ranking.candidates
        ],
    }


def ranking_lines(ranking: Any, indent: str = "") -> list[str]:
    lines = [
        f"{indent}{i:2d}. {c.song.title} — {c.song.artist} [{c.song.genre}] ({c.song.id})"
        + ("  · long tail" if c.long_tail else "")
        for i, c in enumerate(ranking.candidates, 1)
    ]
    if not lines:
        lines = [f"{indent}(nothing found)"]
    lines.append(f"{indent}Answered by: {ranking.embedding}")
    if ranking.filtered_for:
        lines.append(f"{indent}Every song listed is {ranking.filtered_for} (verified).")
    lines += [f"{indent}Note: {n}" for n in ranking.notes]
    return lines


def cmd_prompt(args: argparse.Namespace) -> int:
    use, level = _use_level(args)
    with open_context(args) as ctx:
        _indexed(ctx, args)
        ranking = ctx.studio.selection.prompt(
            args.text or "",
            categories=args.category or (),
            use=use,
            level=level,
            k=args.k,
            exclude=args.exclude or (),
        )
        emit(args, ranking_to_dict(ranking), "\n".join(ranking_lines(ranking)))
    return EXIT_OK


def cmd_suggest(args: argparse.Namespace) -> int:
    """One song: "more like this"; several: recommendations from them as a session."""
    use, level = _use_level(args)
    with open_context(args) as ctx:
        _indexed(ctx, args)
        room = ctx.studio.selection
        exclude = args.exclude or ()
        if len(args.like) == 1:
            ranking = room.similar(args.like[0], use=use, level=level, k=args.k, exclude=exclude)
        else:
            ranking = room.recommend(args.like, use=use, level=level, k=args.k, exclude=exclude)
        emit(args, ranking_to_dict(ranking), "\n".join(ranking_lines(ranking)))
    return EXIT_OK


def cmd_categories(args: argparse.Namespace) -> int:
    with open_context(args) as ctx:
        _indexed(ctx, args)
        room = ctx.studio.selection
        if args.song:
            labels = room.labels(args.song)
            emit(args, labels, "\n".join(f"{f}: {', '.join(v)}" for f, v in labels.items()))
            return EXIT_OK
        facets = room.facets()
        lines = [
            f"{facet}: " + ", ".join(f"{label} ({n})" for label, n in labels)
            for facet, labels in facets.items()
        ]
        lines.append("Use one as a prompt: musicapp prompt --category mood:sad")
        emit(args, {f: dict(v) for f, v in facets.items()}, "\n".join(lines))
    return EXIT_OK


def alternatives_text(alternatives: list[Any]) -> str:
    """What a refusal prints after its reasons: the permitted songs nearest to each refused
    reference, for the same level and use, and how to swap one in."""
    lines: list[str] = []
    for alt in alternatives:
        level = alt.refused.level.value
        lines.append(f"\n{alt.ranking.query.capitalize()} ({level} level), permitted and close:")
        lines += ranking_lines(alt.ranking, "  ")
    return "\n".join(lines)


def alternatives_to_dict(alternatives: list[Any]) -> list[dict[str, Any]]:
    return [
        {"refused": a.refused.song_id, "level": a.refused.level.value, **ranking_to_dict(a.ranking)}
        for a in alternatives
    ]


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--use", choices=[u.value for u in Use], help="only songs usable for this use")
    p.add_argument(
        "--level",
        choices=[lv.value for lv in Level],
        help="the reference level the songs must be usable at (default: song)",
    )
    p.add_argument("-k", type=int, default=10, help="how many songs (default 10)")
    p.add_argument(
        "--exclude", nargs="+", metavar="SONG", help="songs already seen: ask for others"
    )


def add_select_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register prompt, suggest and categories on the `musicapp` parser."""
    prompt = sub.add_parser(
        "prompt",
        parents=[common],
        help='songs for a description ("a melancholic fiddle tune for a funeral") or category',
    )
    prompt.add_argument("text", nargs="?", default="", help="what you are looking for")
    prompt.add_argument(
        "--category",
        action="append",
        metavar="FACET:LABEL",
        help="a category as (part of) the prompt, e.g. mood:sad, situation:funeral (repeatable)",
    )
    _filters(prompt)
    prompt.set_defaults(func=cmd_prompt)
    suggest = sub.add_parser(
        "suggest", parents=[common], help="songs like one song, or recommendations from several"
    )
    suggest.add_argument("--like", nargs="+", required=True, metavar="SONG", help="song ids")
    _filters(suggest)
    suggest.set_defaults(func=cmd_suggest)
    cats = sub.add_parser(
        "categories", parents=[common], help="mood, situation and function labels (or one song's)"
    )
    cats.add_argument("song", nargs="?", help="a song id: its labels")
    cats.set_defaults(func=cmd_categories)
