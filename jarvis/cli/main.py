"""The ``jarvis`` command."""

from __future__ import annotations

import gc
import logging
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import orjson
import typer

from jarvis.contract.messages import LifecycleEvent, ProgramSpec, StartCommand
from jarvis.errors import JarvisError

app = typer.Typer(
    help="Jarvis: run SPy programs, locally or on workers driven through Kafka.",
    no_args_is_help=True,
    add_completion=False,
)
topics_app = typer.Typer(
    help="Topics as code (jarvis/topics/topics.toml, or JARVIS_TOPICS_FILE).", no_args_is_help=True
)
contract_app = typer.Typer(
    help="The message contract's JSON Schemas and AsyncAPI document.", no_args_is_help=True
)
app.add_typer(topics_app, name="topics")
app.add_typer(contract_app, name="contract")

InputOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--input",
        "-i",
        help="k=v; v is parsed as JSON when it is valid JSON, else taken as a string.",
    ),
]


def parse_inputs(pairs: list[str] | None) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{pair!r}: expected k=v", param_hint="--input")
        try:
            inputs[key] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            inputs[key] = raw
    return inputs


def _fail(message: str, code: int = 2) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def _exit_code(event: LifecycleEvent) -> int:
    return 0 if event.event == "completed" else 1


@app.command()
def run(
    program: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="SPy program file.")],
    input: InputOpt = None,
    json: Annotated[
        bool, typer.Option("--json", help="JSON lines instead of readable lines.")
    ] = False,
    directory: Annotated[
        Path, typer.Option("--dir", help="Journals and artifacts go here.")
    ] = Path(".jarvis/local"),
    execution_id: Annotated[
        str | None,
        typer.Option("--id", help="Execution id (default: generated); reuse one to resume."),
    ] = None,
    book: Annotated[
        list[str] | None, typer.Option("--book", help="A Book the program may call (repeat).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="full | statements | effects")] = "full",
) -> None:
    """Run a program here, with no services: journal and artifacts under --dir, logs to stdout."""
    from jarvis.artifacts import LocalArtifactStore
    from jarvis.books.loading import load_books
    from jarvis.cli.render import ConsoleSink
    from jarvis.execution import RunConfig, effective_limits, run_execution
    from jarvis.execution.config import sandbox_run_settings
    from jarvis.sandbox import SandboxPool
    from jarvis.settings import Settings

    eid = execution_id or f"local-{uuid.uuid4().hex[:12]}"
    try:
        command = StartCommand(
            execution_id=eid,
            program=ProgramSpec(source=program.read_text(), filename=program.name),
            inputs=parse_inputs(input),
            books=book or [],
            options={"log_level": log_level},  # type: ignore[arg-type]
        )
    except ValueError as exc:
        _fail(str(exc))
    settings = Settings()
    try:
        registry = load_books(settings)
        registry.resolve(command.books)
    except JarvisError as exc:
        _fail(str(exc))
    limits, log_policy = effective_limits(command.options.limits, settings)
    config = RunConfig(
        journal_root=directory / "journals",
        worker_id="local",
        artifacts=LocalArtifactStore(directory / "artifacts"),
        books=registry,
        procedures=registry.procedures(command.books),
        limits=limits,
        log_policy=log_policy,
        max_program_bytes=settings.max_program_bytes,
        storage_deadline_s=settings.artifact_deadline_s,
        sandboxes=SandboxPool(1),
        **sandbox_run_settings(settings),  # type: ignore[arg-type]
    )
    sink = ConsoleSink(json_lines=json)
    try:
        outcome = run_execution(command, command.program.source or "", config, sink)
    finally:
        assert config.sandboxes is not None
        config.sandboxes.close()
    sink.event(outcome.event)
    raise typer.Exit(_exit_code(outcome.event))


@app.command()
def worker(
    drain: Annotated[
        float | None,
        typer.Option(
            help="Exit after this many idle seconds with nothing running (batch/test mode)."
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Python logging level.")] = "INFO",
) -> None:
    """Consume spy_control and run executions until SIGTERM/SIGINT (settings: JARVIS_* env vars)."""
    from jarvis.settings import Settings
    from jarvis.telemetry import logs
    from jarvis.worker.loop import Worker

    try:
        settings = Settings()
        logs.setup(settings.log_format, log_level, settings.worker_id)  # JARVIS_LOG_FORMAT
        w = Worker(settings)
    except Exception as exc:
        _fail(f"cannot start worker: {exc}")

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger("jarvis.worker").info("signal %d: draining", signum)
        w.request_shutdown()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # Everything imported and built so far lives as long as the process: keep it out of the
    # cyclic collector's scans, and collect the young generation less often (each execution
    # allocates a few thousand short-lived objects; cycles among them are rare).
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
    w.run(idle_exit_s=drain)


@app.command()
def submit(
    program: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="SPy program file.")],
    input: InputOpt = None,
    execution_id: Annotated[
        str | None, typer.Option("--id", help="Execution id (default: generated).")
    ] = None,
    book: Annotated[
        list[str] | None, typer.Option("--book", help="A Book the program may call (repeat).")
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Stream logs and lifecycle until the end.")
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="With --follow: JSON lines.")] = False,
    log_level: Annotated[str, typer.Option(help="full | statements | effects")] = "full",
    timeout: Annotated[
        float | None, typer.Option(help="With --follow: give up after this many seconds.")
    ] = None,
) -> None:
    """Publish a start command for PROGRAM; with --follow, exit non-zero unless it completes."""
    from jarvis.cli.render import ConsoleSink
    from jarvis.client import JarvisClient

    since = datetime.now(UTC) - timedelta(seconds=5)
    try:
        client = JarvisClient()
        eid = client.start(
            path=program,
            inputs=parse_inputs(input),
            execution_id=execution_id,
            books=book,
            log_level=log_level,
        )
    except JarvisError as exc:
        _fail(str(exc))
    if not follow:
        typer.echo(eid)
        return
    typer.secho(f"submitted {eid}", err=True, fg=typer.colors.BLUE)
    sink = ConsoleSink(json_lines=json)
    terminal: LifecycleEvent | None = None
    try:
        for update in client.follow(eid, since=since, timeout_s=timeout):
            sink.update(update)
            if isinstance(update, LifecycleEvent) and update.terminal:
                terminal = update
    except TimeoutError as exc:
        _fail(str(exc), code=3)
    raise typer.Exit(_exit_code(terminal) if terminal else 1)


@app.command()
def stop(
    execution_id: Annotated[str, typer.Argument(help="Execution to stop.")],
    mode: Annotated[
        str, typer.Option(help="cancel (terminal) | suspend (resumable by a later start)")
    ] = "cancel",
    reason: Annotated[str | None, typer.Option(help="Free text kept with the stop.")] = None,
) -> None:
    """Publish a stop command."""
    from jarvis.client import JarvisClient

    try:
        JarvisClient().stop(execution_id, mode=mode, reason=reason)
    except JarvisError as exc:
        _fail(str(exc))
    typer.echo(f"stop ({mode}) sent for {execution_id}")


@topics_app.command("apply")
def topics_apply() -> None:
    """Create missing topics; report drift (never deletes or shrinks). Exit 1 on drift."""
    from jarvis.kafka.topics import apply
    from jarvis.settings import Settings

    try:
        reports = apply(Settings())
    except JarvisError as exc:
        _fail(str(exc))
    for r in reports:
        colour = {"created": typer.colors.GREEN, "ok": None, "drift": typer.colors.YELLOW}[r.action]
        typer.secho(f"{r.topic:<20} {r.action:<8} {r.detail}", fg=colour)
    if any(r.action == "drift" for r in reports):
        raise typer.Exit(1)


@topics_app.command("plan")
def topics_plan(
    json: Annotated[bool, typer.Option("--json", help="One JSON object per topic.")] = False,
) -> None:
    """Print the topic declarations `apply` would make, without a broker."""
    from jarvis.kafka.topics import load_specs
    from jarvis.settings import Settings

    settings = Settings()
    try:
        specs = load_specs(settings)
    except JarvisError as exc:
        _fail(str(exc))
    typer.secho(f"topic declarations from {settings.topics_file}", err=True)
    for s in specs:
        if json:
            line = {
                "role": s.role,
                "topic": s.name,
                "partitions": s.partitions,
                "replication": settings.topic_replication,
                "config": s.config,
            }
            typer.echo(orjson.dumps(line, option=orjson.OPT_SORT_KEYS).decode())
        else:
            config = " ".join(f"{k}={v}" for k, v in s.config.items())
            typer.echo(
                f"{s.name:<20} {s.role:<8} partitions={s.partitions} "
                f"replication={settings.topic_replication} {config}"
            )


journals_app = typer.Typer(help="Journals on the checkpoint volume.", no_args_is_help=True)
app.add_typer(journals_app, name="journals")


@journals_app.command("gc")
def journals_gc(
    older_than_days: Annotated[
        float | None, typer.Option(help="Default: JARVIS_JOURNAL_RETENTION_S.")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would go.")] = False,
) -> None:
    """Remove finished executions' journals older than the retention (never unfinished ones)."""
    from jarvis.journal.retention import collect
    from jarvis.settings import Settings

    settings = Settings()
    older = settings.journal_retention_s if older_than_days is None else older_than_days * 86400
    removed = collect(settings.checkpoint_dir, older, dry_run=dry_run)
    for eid in removed:
        typer.echo(eid)
    typer.secho(f"{len(removed)} journal(s) {'would be ' if dry_run else ''}removed", err=True)


@contract_app.command("export")
def contract_export(
    check: Annotated[
        bool, typer.Option("--check", help="Only report drift; exit 1 if any.")
    ] = False,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            file_okay=False,
            help="Write (or check) here instead of the packaged jarvis/topics/schemas/.",
        ),
    ] = None,
) -> None:
    """Write the contract's *.schema.json and asyncapi.json from the pydantic models
    (default: jarvis/topics/schemas and jarvis/topics/asyncapi.json)."""
    from jarvis.contract import schemas

    target = directory or schemas.SCHEMA_DIR
    if check:
        drifted = schemas.drift(target)
        for name in drifted:
            typer.secho(f"{target / name} differs from the models", fg=typer.colors.YELLOW)
        raise typer.Exit(1 if drifted else 0)
    try:
        written = schemas.export(target)
    except OSError as exc:
        _fail(f"cannot write the schemas to {target}: {exc}")
    for path in written:
        typer.echo(f"wrote {path}")


@app.command()
def version() -> None:
    """Print Jarvis's version and contract version."""
    from jarvis import __version__
    from jarvis.contract import CONTRACT_VERSION

    typer.echo(f"jarvis {__version__} (contract v{CONTRACT_VERSION})")
