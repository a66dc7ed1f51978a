"""The ``jarvis`` command."""

from __future__ import annotations

import gc
import logging
import signal
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import orjson
import typer

from jarvis.cli.app import (
    LOG_LEVELS,
    InputOpt,
    JsonOpt,
    TimeoutOpt,
    _check_broker,
    _choice,
    _fail,
    _settings,
    app,
    contract_app,
    main,
    parse_inputs,
    topics_app,
)
from jarvis.contract.messages import (
    STOP_MODES,
    LifecycleEvent,
    ProgramSpec,
    StartCommand,
    StopMode,
)
from jarvis.errors import JarvisError

if TYPE_CHECKING:
    from jarvis.settings import Settings


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
    log_level: Annotated[
        str,
        typer.Option("--log-level", help="What is logged.", **_choice("--log-level", LOG_LEVELS)),
    ] = "full",
) -> None:
    """Run a program here, with no services: journal and artifacts under --dir, logs to stdout."""
    from jarvis.books.loading import load_books
    from jarvis.cli.render import ConsoleSink
    from jarvis.execution import RunConfig, run_execution
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
    config = RunConfig.local(settings, command, directory, registry, registry)
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
        bool,
        typer.Option(
            "--follow",
            "-f",
            help="Follow it to the end: a live view on a terminal, else log and event lines.",
        ),
    ] = False,
    json: Annotated[
        bool, typer.Option("--json", help="JSON lines (without --follow: the id as JSON).")
    ] = False,
    log_level: Annotated[
        str,
        typer.Option("--log-level", help="What is logged.", **_choice("--log-level", LOG_LEVELS)),
    ] = "full",
    timeout: Annotated[
        float | None, typer.Option(help="With --follow: give up after this many seconds.")
    ] = None,
) -> None:
    """Publish a start command for PROGRAM; with --follow, exit non-zero unless it completes.

    Kafka is checked first (JARVIS_CLI_TIMEOUT_S): a broker that does not answer is one
    error line naming JARVIS_KAFKA_BOOTSTRAP, within seconds."""
    from jarvis.client import JarvisClient

    settings = _settings()
    since = datetime.now(UTC) - timedelta(seconds=5)
    _check_broker(settings, settings.control_topic)
    client = JarvisClient(settings)
    eid = client.start(
        path=program,
        inputs=parse_inputs(input),
        execution_id=execution_id,
        books=book,
        log_level=log_level,
    )
    if not follow:
        typer.echo(orjson.dumps({"execution_id": eid}).decode() if json else eid)
        return
    _follow(client.follow(eid, since=since, timeout_s=timeout), eid, json, submitted=True)


def _follow(updates: Iterator[Any], eid: str, json: bool, submitted: bool = False) -> NoReturn:
    """Render a followed execution; exit 0 when it completed, 1 otherwise, 3 at the timeout."""
    from jarvis.cli.render import ConsoleSink, LiveView

    terminal: LifecycleEvent | None = None
    live = not json and sys.stdout.isatty()
    if submitted and not live:
        typer.secho(f"submitted {eid}", err=True, fg=typer.colors.BLUE)
    sink: ConsoleSink | LiveView = LiveView(eid) if live else ConsoleSink(json_lines=json)
    try:
        with sink:
            for update in updates:
                sink.update(update)
                if isinstance(update, LifecycleEvent) and update.terminal:
                    terminal = update
    except TimeoutError as exc:
        _fail(str(exc), code=3, hint=f"`jarvis logs {eid} --follow` picks it up again")
    raise typer.Exit(_exit_code(terminal) if terminal else 1)


@app.command()
def logs(
    execution_id: Annotated[str, typer.Argument(help="Execution whose log records to print.")],
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Keep reading until the execution's terminal event."),
    ] = False,
    since: Annotated[
        int, typer.Option("--since", min=0, metavar="SEQ", help="Only records from this seq on.")
    ] = 0,
    hours: Annotated[
        float,
        typer.Option(
            "--hours", min=0.001, help="How far back to look in spy_logs (by message time)."
        ),
    ] = 24.0,
    json: JsonOpt = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            min=0.1,
            help="Seconds to wait for Kafka (default JARVIS_CLI_TIMEOUT_S); with --follow: "
            "give up following after this many seconds (default: never).",
        ),
    ] = None,
) -> None:
    """Print an execution's log records from spy_logs (only the partition its id maps to).

    Without --follow it stops at the end of the partition as it is now, and an id with no
    records there is an error (exit 1). With --follow it ends at the execution's terminal
    event, once every record it announced has arrived (--timeout then bounds the wait)."""
    from jarvis.cli.render import record_line
    from jarvis.client import JarvisClient
    from jarvis.contract.messages import LogRecord
    from jarvis.kafka.reach import address

    settings = _settings(timeout if not follow else None)
    _check_broker(settings, settings.logs_topic)
    client = JarvisClient(settings)
    start = datetime.now(UTC) - timedelta(hours=hours)

    def show(record: LogRecord) -> None:
        data = record.model_dump(mode="json")
        typer.echo(orjson.dumps({"log": data}).decode() if json else record_line(data))

    if follow:
        terminal: LifecycleEvent | None = None
        try:
            for update in client.follow(execution_id, since=start, timeout_s=timeout):
                if isinstance(update, LogRecord):
                    if update.seq >= since:
                        show(update)
                elif update.terminal:
                    terminal = update
        except TimeoutError as exc:
            _fail(str(exc), code=3)
        if terminal is not None:
            typer.secho(
                f"== {execution_id} {terminal.event.upper()}", err=True, fg=typer.colors.BLUE
            )
        return
    count = 0
    for record in client.logs(execution_id, since=start, since_seq=since):
        show(record)
        count += 1
    if not count:
        from jarvis.kafka.config import partition_for

        meta = _partitions(settings, settings.logs_topic)
        where = f"{settings.logs_topic} partition {partition_for(execution_id, meta)}"
        _fail(
            f"no log records for {execution_id}"
            + (f" from seq {since}" if since else "")
            + f" in the last {hours:g} h ({address(settings)}, {where})",
            code=1,
            hint="check the id (it is case-sensitive); an older execution needs --hours; "
            "one that has not started yet: --follow",
        )


def _partitions(settings: Settings, topic: str) -> int:
    from jarvis.kafka.reach import connect

    _admin, meta = connect(settings, settings.cli_timeout_s, topic)
    return len(meta.topics[topic].partitions)


@app.command()
def stop(
    execution_id: Annotated[str, typer.Argument(help="Execution to stop.")],
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            help="cancel (terminal) or suspend (resumable by a later start).",
            **_choice("--mode", STOP_MODES),
        ),
    ] = "cancel",
    reason: Annotated[str | None, typer.Option(help="Free text kept with the stop.")] = None,
    json: JsonOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Publish a stop command (idempotent; a stop before the start prevents it)."""
    from jarvis.client import JarvisClient

    settings = _settings(timeout)
    _check_broker(settings, settings.control_topic)
    JarvisClient(settings).stop(execution_id, mode=cast(StopMode, mode), reason=reason)
    if json:
        sent = {"execution_id": execution_id, "mode": mode, "reason": reason, "sent": True}
        typer.echo(orjson.dumps(sent).decode())
    else:
        typer.echo(f"stop ({mode}) sent for {execution_id}")


@topics_app.command("apply")
def topics_apply(
    report_only: Annotated[
        bool, typer.Option("--report-only", help="Report config differences; change nothing.")
    ] = False,
    json: JsonOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Create missing topics and set declared configs that differ; report partition drift
    (never deletes or shrinks). Exit 1 on drift."""
    from jarvis.kafka.topics import apply

    settings = _settings(timeout)
    reports = apply(settings, timeout_s=settings.cli_timeout_s, alter_configs=not report_only)
    for r in reports:
        if json:
            line = {"topic": r.topic, "action": r.action, "detail": r.detail}
            typer.echo(orjson.dumps(line).decode())
            continue
        colour = {
            "created": typer.colors.GREEN,
            "ok": None,
            "updated": typer.colors.GREEN,
            "drift": typer.colors.YELLOW,
        }[r.action]
        typer.secho(f"{r.topic:<20} {r.action:<8} {r.detail}", fg=colour)
    if any(r.action == "drift" for r in reports):
        raise typer.Exit(1)


@topics_app.command("describe")
def topics_describe(json: JsonOpt = False, timeout: TimeoutOpt = None) -> None:
    """Each declared topic as the broker has it: partitions, replication, drift, end offsets,
    and the worker group's committed offsets and lag on the control topic. Changes nothing."""
    from jarvis.kafka.topics import describe

    settings = _settings(timeout)
    states = describe(settings, timeout_s=settings.cli_timeout_s)
    if json:
        for state in states:
            typer.echo(orjson.dumps(state.as_dict()).decode())
        return
    for st in states:
        if not st.present:
            typer.secho(
                f"{st.topic:<20} {st.role:<8} missing (run `jarvis topics apply`)",
                fg=typer.colors.RED,
            )
            continue
        status = "drift: " + "; ".join(st.drift) if st.drift else "ok"
        head = (
            f"{st.topic:<20} {st.role:<8} partitions={st.partitions} replication={st.replication}"
        )
        if st.lag is not None:
            head += f" group={st.group} lag={st.lag}"
        typer.secho(f"{head}  {status}", fg=typer.colors.YELLOW if st.drift else None)
        for p in st.offsets:
            line = f"  [{p.partition:>3}] earliest={p.earliest} end={p.end}"
            if st.group is not None:
                committed = "-" if p.committed is None else str(p.committed)
                line += f" committed={committed} lag={p.lag}"
            typer.echo(line)


@app.command()
def doctor(json: JsonOpt = False, timeout: TimeoutOpt = None) -> None:
    """Check every dependency a worker needs, from here, with its address: Kafka and each
    declared topic, the consumer group, Redis, the S3 bucket, the checkpoint volume, the
    Books, the settings. One line per check; exit 1 if any fails."""
    from jarvis.cli import doctor as checks
    from jarvis.cli.doctor import Result

    try:
        settings = _settings(timeout)
    except typer.Exit:
        if json:
            typer.echo(orjson.dumps(Result("settings", "environment", False).as_dict()).decode())
        raise typer.Exit(1) from None
    where = "environment" + (f" + {_config_file()}" if _config_file() else "")
    results = [
        Result("settings", where, True, "valid"),
        *checks.run(settings, settings.cli_timeout_s),
    ]
    for r in results:
        if json:
            typer.echo(orjson.dumps(r.as_dict()).decode())
            continue
        mark = (
            typer.style("ok  ", fg=typer.colors.GREEN)
            if r.ok
            else typer.style("FAIL", fg=typer.colors.RED, bold=True)
        )
        typer.echo(f"{mark}  {r.check:<18} {r.address}  {r.detail}")
        if not r.ok and r.hint:
            typer.echo(f"      hint: {r.hint}")
    raise typer.Exit(0 if all(r.ok for r in results) else 1)


def _config_file() -> str:
    import os

    return os.environ.get("JARVIS_CONFIG", "")


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
def version(json: JsonOpt = False) -> None:
    """Print Jarvis's version and contract version."""
    from jarvis import __version__
    from jarvis.contract import CONTRACT_VERSION

    if json:
        typer.echo(orjson.dumps({"jarvis": __version__, "contract": CONTRACT_VERSION}).decode())
    else:
        typer.echo(f"jarvis {__version__} (contract v{CONTRACT_VERSION})")


from jarvis.cli import journals as _journals  # noqa: E402, F401  (registers journals show, replay)
from jarvis.cli import status as _status  # noqa: E402, F401  (registers status, ls, artifacts)

__all__ = ["app", "main", "parse_inputs"]
