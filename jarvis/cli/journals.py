"""``jarvis journals``: journals on the checkpoint volume (gc, show, replay).

``show`` and ``replay`` only read (``Journal.read``): they never repair a torn tail, take a
lease or sync, so they are safe on a journal a worker is writing right now.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from jarvis.cli.app import JsonOpt, _fail, _safe, _settings, app
from jarvis.journal import Crash, Effect, End, FenceMark, History, Journal, Record, Start

if TYPE_CHECKING:
    from jarvis.execution.offline import ReplayReport

journals_app = typer.Typer(help="Journals on the checkpoint volume.", no_args_is_help=True)
app.add_typer(journals_app, name="journals")

SHOWN_CHARS = 100
"""A value in ``journals show`` is clipped to this many characters (``--json`` has it all)."""


@journals_app.command("gc")
def journals_gc(
    older_than_days: Annotated[
        float | None, typer.Option(help="Default: JARVIS_JOURNAL_RETENTION_S.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
    json: JsonOpt = False,
) -> None:
    """Remove finished executions' journals older than the retention (never unfinished ones)."""
    from jarvis.journal.retention import collect

    settings = _settings()
    older = settings.journal_retention_s if older_than_days is None else older_than_days * 86400
    removed = collect(settings.checkpoint_dir, older, dry_run=dry_run)
    for eid in removed:
        typer.echo(
            orjson.dumps({"execution_id": eid, "removed": not dry_run}).decode() if json else eid
        )
    typer.secho(f"{len(removed)} journal(s) {'would be ' if dry_run else ''}removed", err=True)


def _load(target: Path, execution_id: str | None) -> History:
    """The journal at ``target`` (a journal's directory or file), read only; one error line
    (exit 1) when there is none."""
    from jarvis.errors import JournalError

    try:
        history = Journal.read(target, execution_id)
    except JournalError as exc:
        _fail(str(exc), code=1)
    if not history.lines:
        _fail(
            f"no journal at {history.path}",
            code=1,
            hint="check the id (case-sensitive) and JARVIS_CHECKPOINT_DIR, or give --path",
        )
    return history


def _clip(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    text = _safe(text)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def describe(record: Record) -> str:
    """One record, in a few words."""
    if type(record) is Effect:
        head = f"#{record.seq} {record.name}"
        if record.error is not None:
            return f"{head} raised {record.error.type}: {_clip(record.error.message)}"
        return f"{head} -> {_clip(record.result)}"
    if type(record) is Start:
        books = f", books {','.join(record.books)}" if record.books else ""
        return (
            f"{_safe(record.filename)} digest {record.digest[:12]}, format {record.format}, "
            f"inputs {_clip(record.inputs)}{books}, at {record.at}"
        )
    if type(record) is FenceMark:
        return "new owner" + (" (with the start command)" if record.command else "")
    if type(record) is End:
        event = record.event
        mode = f" ({event['stop_mode']})" if event.get("stop_mode") else ""
        error = event.get("error") or {}
        why = f": {error.get('type')}: {_clip(error.get('message'))}" if error else ""
        return f"{event.get('event')}{mode}{why}"
    assert type(record) is Crash
    return f"sandbox died ({record.cause}) on attempt {record.attempt}"


def _state(history: History) -> str:
    end = history.end
    if end is not None:
        return f"ended ({end.event.get('event')})"
    return "open (running, suspended or crashed)" if history.start else "not started"


@journals_app.command("show")
def journals_show(
    execution_id: Annotated[
        str | None, typer.Argument(help="Execution whose journal to show.")
    ] = None,
    path: Annotated[
        Path | None,
        typer.Option("--path", help="A journal's directory or file, instead of an id."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Print an execution's journal record by record (from JARVIS_CHECKPOINT_DIR, or --path).

    Read only: a torn last line is reported, never repaired. Records of a stale owner (fenced
    off by a newer one) are shown and marked; a replay ignores them."""
    from jarvis.journal.records import kind_of, to_json

    if (execution_id is None) == (path is None):
        _fail(
            "give an execution id or --path (one of them)", hint="see `jarvis journals show --help`"
        )
    history = (
        _load(path, None) if path is not None else _load(_settings().checkpoint_dir, execution_id)
    )
    for index, record in enumerate(history.lines):
        stale = history.is_stale(index)
        if json:
            line = {"index": index, "stale": stale, **to_json(record)}
            typer.echo(orjson.dumps(line).decode())
            continue
        owner = "" if record.k is None else f"k={record.k}"
        mark = "  (stale owner: ignored)" if stale else ""
        typer.echo(f"#{index:<4} {owner:<6} {kind_of(record):<7} {describe(record)}{mark}")
    if not json:
        effects = len(history.effects)
        torn = f", a torn last line of {history.torn_bytes} bytes" if history.torn_bytes else ""
        typer.secho(
            f"{history.path}: {len(history.lines)} records, {effects} effects, "
            f"{history.writers} owner(s), {_state(history)}{torn}",
            err=True,
        )


@journals_app.command("replay")
def journals_replay(
    path: Annotated[Path, typer.Argument(help="A journal's directory or journal.log file.")],
    program: Annotated[
        Path | None,
        typer.Option(
            "--program",
            exists=True,
            dir_okay=False,
            help="The program's source (default: the one in the journal's start command).",
        ),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """Re-run the program offline against its journal: no Kafka, Redis, S3 or Book calls.

    Every effect is answered from the journal. Exit 0 when the replay agrees with the journal
    (its outcome matches the journal's end, or the journal ends first: the execution was
    still going); exit 1 on a divergence, naming the journal record where it happened."""
    from jarvis.books.loading import load_books
    from jarvis.errors import JarvisError
    from jarvis.execution.offline import command_of, replay

    history = _load(path, None)
    command = command_of(history)
    if program is not None:
        source = program.read_text()
    elif command.program.source:
        source = command.program.source
    else:
        _fail(
            f"the journal at {history.path} does not hold the program's source",
            hint="a `jarvis run` journal or a program.ref: pass --program FILE",
        )
    settings = _settings()
    try:
        registry = load_books(settings)
        registry.resolve(command.books)
    except JarvisError as exc:
        _fail(str(exc), hint="install the Books the journal names: a replay needs their procedures")
    report = replay(history, source, settings, registry, command)
    if json:
        typer.echo(orjson.dumps(report.as_dict()).decode())
    else:
        _say(report, history)
    raise typer.Exit(0 if report.ok else 1)


def _say(report: ReplayReport, history: History) -> None:
    d = report.divergence
    if d is not None:
        where = f"effect #{d.effect_seq}" if d.effect_seq is not None else "the outcome"
        typer.secho(
            f"error: divergence at record #{d.record_index} ({where}): {_safe(d.message)}",
            fg=typer.colors.RED,
            err=True,
        )
        typer.secho(
            f"hint: `jarvis journals show --path {history.path}` lists the records", err=True
        )
        return
    head = f"replayed {report.replayed} of {report.effects} effects of {report.execution_id}"
    if report.caught_up:
        typer.echo(f"{head}: the journal ends there ({_state(history)}); a live run would go on")
    elif report.journaled is None or report.journaled.get("event") == "stopped":
        why = "ends in a stop" if report.journaled else "has no end"
        typer.echo(f"{head}: {report.outcome['event']} offline (the journal {why})")
    else:
        typer.echo(f"{head}: {report.outcome['event']} (matches the journal's end)")
