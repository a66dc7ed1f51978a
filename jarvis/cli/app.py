"""The ``jarvis`` app and what its command modules share: one-line errors (``error:`` and a
``hint:``), ``--json``, the timeout option, settings read once. Command modules (``main``,
``status``, ``journals``) import from here, never from each other."""

from __future__ import annotations

import logging
import re
import sys
import traceback
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import orjson
import typer

from jarvis.errors import JarvisError

if TYPE_CHECKING:
    from jarvis.settings import Settings


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _safe(text: object, lines: bool = False) -> str:
    """Program-made text for a terminal: control characters (escape sequences) shown as
    ``\\xNN``; newlines kept only where ``lines``."""
    s = str(text)
    if not lines:
        s = s.replace("\n", "\\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


class _Jarvis(typer.Typer):
    """The app; called as a program (the ``jarvis`` console script), it runs ``main``."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True):
            main(kwargs.get("args"))
        return super().__call__(*args, **kwargs)


app = _Jarvis(
    help="Jarvis: run SPy programs, locally or on workers driven through Kafka.",
    no_args_is_help=True,
    # Errors are one line (main() below); a traceback only with --debug.
    pretty_exceptions_enable=False,
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


class _State:
    debug = False


def _fail(message: str, code: int = 2, hint: str | None = None) -> NoReturn:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    if hint:
        typer.secho(f"hint: {hint}", err=True)
    raise typer.Exit(code)


def _either(values: tuple[str, ...]) -> str:
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _choice(option: str, values: tuple[str, ...]) -> dict[str, Any]:
    """typer.Option arguments for a string that must be one of ``values``: a clear error
    listing them, the choices in --help and in shell completion."""

    def parse(value: str) -> str:
        if value not in values:
            raise typer.BadParameter(
                f"invalid value {value!r} for {option}: choose {_either(values)}"
            )
        return value

    def complete(_ctx: Any, _param: Any, incomplete: str) -> list[str]:
        return [v for v in values if v.startswith(incomplete)]

    return {"parser": parse, "shell_complete": complete, "metavar": "|".join(values)}


LOG_LEVELS = ("full", "statements", "effects")

TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.1,
        help="Seconds to wait for Kafka (and Redis, S3) before giving up. "
        "Default: JARVIS_CLI_TIMEOUT_S (5).",
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="JSON lines instead of readable lines.")]


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug",
            help="Show Python tracebacks and librdkafka's own log lines (hidden otherwise).",
        ),
    ] = False,
) -> None:
    _State.debug = debug
    if ctx.invoked_subcommand == "worker":
        return  # the worker logs everything through its own handler
    kafka = logging.getLogger("jarvis.kafka")
    if debug:
        logging.basicConfig(
            level=logging.DEBUG,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s %(message)s",
        )
        kafka.setLevel(logging.DEBUG)
    else:
        # librdkafka's lines (a down broker: dozens) would bury the one error line.
        kafka.setLevel(logging.CRITICAL + 1)


def _settings(timeout_s: float | None = None) -> Settings:
    """Settings from the environment, or a one-line error naming the bad variable."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from jarvis.settings import Settings

    try:
        settings = Settings()
    except SettingsError as exc:  # a value the environment source cannot even parse (JSON)
        _fail(
            f"invalid settings: {exc}",
            hint="list settings (e.g. JARVIS_EXTRA_BOOKS) take JSON: '[\"module:attr\"]'",
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "JARVIS_" + "_".join(str(part) for part in first["loc"]).upper()
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        _fail(
            f"invalid setting {name}={first.get('input')!r}: {first['msg']}{more}",
            hint=f"fix {name} in the environment or in the file JARVIS_CONFIG names",
        )
    timeout = timeout_s or settings.cli_timeout_s
    # Everything the CLI waits for is bounded by the one timeout.
    return settings.model_copy(update={"cli_timeout_s": timeout, "client_timeout_s": timeout})


def _check_broker(settings: Settings, topic: str | None = None) -> None:
    """Fail fast (within the timeout) when the broker, or ``topic`` on it, is not there."""
    from jarvis.kafka.reach import address, connect

    _admin, meta = connect(settings, settings.cli_timeout_s, topic)
    if topic is not None:
        found = meta.topics.get(topic)
        if found is None or found.error is not None or not found.partitions:
            _fail(
                f"topic {topic} does not exist ({address(settings)})",
                hint="run `jarvis topics apply` (or check JARVIS_CONTROL_TOPIC and friends)",
            )


def main(args: list[str] | None = None) -> NoReturn:
    """The ``jarvis`` command: errors are one ``error:`` line (and a ``hint:``), no traceback
    unless ``--debug``."""
    try:
        code = app(prog_name="jarvis", args=args, standalone_mode=False)
    except JarvisError as exc:
        if _State.debug:
            traceback.print_exc()
        _report(exc)
        sys.exit(2)
    except Exception as exc:
        # typer carries its own copy of click: its exceptions are known by name (as typer
        # itself does, typer/rich_utils.py).
        kinds = {cls.__name__ for cls in type(exc).__mro__}
        if "NoArgsIsHelpError" in kinds:
            exc.show()  # type: ignore[attr-defined]
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if "UsageError" in kinds:
            _usage_error(exc)
        if "Abort" in kinds:
            typer.secho("error: aborted", fg=typer.colors.RED, err=True)
            sys.exit(130)
        if _State.debug:
            raise
        typer.secho(
            f"error: internal error: {type(exc).__name__}: {exc}", fg=typer.colors.RED, err=True
        )
        typer.secho("hint: rerun with --debug for the traceback, and report it", err=True)
        sys.exit(70)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(code or 0)


def _usage_error(exc: Any) -> NoReturn:
    message = str(exc.format_message())
    if str(getattr(exc, "message", "")).startswith("invalid value "):
        message = exc.message
    typer.secho(f"error: {message[:1].lower()}{message[1:]}", fg=typer.colors.RED, err=True)
    ctx = exc.ctx
    typer.secho(f"hint: see `{ctx.command_path if ctx else 'jarvis'} --help`", err=True)
    sys.exit(exc.exit_code)


def _report(exc: JarvisError) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    hint = getattr(exc, "hint", None)
    if hint and f"hint: {hint}" not in str(exc):
        typer.secho(f"hint: {hint}", err=True)
