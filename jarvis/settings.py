"""Settings, validated once at the edge (pydantic-settings).

Every field reads ``JARVIS_<FIELD>`` from the environment or from the TOML/env file named
by ``JARVIS_CONFIG`` (a ``.env`` file in the working directory is read too). Inside
the code, pass the frozen ``Settings`` object, never raw env vars.

Secrets come from files: ``JARVIS_<FIELD>_FILE`` names a file whose content is the value of
``JARVIS_<FIELD>`` (one trailing newline dropped), for any field. That is how a Kubernetes
Secret mounted as a volume reaches the worker without its value sitting in the pod's
manifest or environment (``JARVIS_KAFKA_SASL_PASSWORD_FILE``, ``JARVIS_REDIS_URL_FILE``...).
A file variable that names a missing, unreadable or empty file is an error naming the
variable and the path, and so is setting both ``JARVIS_X`` and ``JARVIS_X_FILE``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from jarvis.errors import JarvisError

ENV_PREFIX = "JARVIS_"
FILE_SUFFIX = "_FILE"


class SettingsFileError(JarvisError):
    """A ``JARVIS_<FIELD>_FILE`` variable that cannot give its setting a value."""

    def __init__(self, variable: str, path: str, problem: str) -> None:
        super().__init__(f"{variable}={path}: {problem}")
        self.variable = variable
        self.path = path


class FileVariables(PydanticBaseSettingsSource):
    """``JARVIS_<FIELD>_FILE=<path>``: the setting's value is that file's content.

    Read for every field, so a mounted Secret can carry any of them; complex fields (dicts,
    lists) hold JSON, as their environment variables do.
    """

    def __init__(self, settings_cls: type[BaseSettings], environ: dict[str, str]) -> None:
        super().__init__(settings_cls)
        self.environ = {k.upper(): v for k, v in environ.items()}

    @staticmethod
    def variable(field_name: str) -> str:
        """The file variable of a field: ``JARVIS_<FIELD>_FILE``."""
        return f"{ENV_PREFIX}{field_name.upper()}{FILE_SUFFIX}"

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = self.variable(field_name)
        path = self.environ.get(variable)
        if path is None:
            return None, field_name, False
        plain = f"{ENV_PREFIX}{field_name.upper()}"
        if plain in self.environ:
            raise SettingsFileError(variable, path, f"{plain} is set too; set only one of them")
        return _read_secret_file(variable, path), field_name, self.field_is_complex(field)

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for field_name, field in self.settings_cls.model_fields.items():
            value, key, is_complex = self.get_field_value(field, field_name)
            if value is None:
                continue
            if is_complex:
                try:
                    value = self.decode_complex_value(field_name, field, value)
                except ValueError as exc:
                    variable = self.variable(field_name)
                    raise SettingsFileError(
                        variable, self.environ[variable], f"content is not JSON ({exc})"
                    ) from None
            values[key] = value
        return values


def _read_secret_file(variable: str, path: str) -> str:
    if not path:
        raise SettingsFileError(variable, path, "empty path")
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise SettingsFileError(variable, path, "no such file") from None
    except IsADirectoryError:
        raise SettingsFileError(variable, path, "is a directory, not a file") from None
    except OSError as exc:
        raise SettingsFileError(variable, path, f"cannot read it ({exc.strerror})") from None
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise SettingsFileError(variable, path, "content is not UTF-8 text") from None
    # Secrets written with `echo` or kubectl end in a newline the value does not have.
    text = text.removesuffix("\n").removesuffix("\r")
    if not text:
        raise SettingsFileError(variable, path, "file is empty")
    return text


def _default_worker_id() -> str:
    # In Kubernetes HOSTNAME is the pod name: what an operator greps logs for.
    return os.environ.get("HOSTNAME") or f"{socket.gethostname()}-{os.getpid()}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="JARVIS_",
        env_file=(".env", os.environ.get("JARVIS_CONFIG", "")),
        extra="ignore",
        frozen=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Earlier wins: explicit arguments, the environment, files named by *_FILE, .env.
        files = FileVariables(settings_cls, dict(os.environ))
        return init_settings, env_settings, files, dotenv_settings, file_secret_settings

    # --- Kafka ---
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", description="Kafka bootstrap servers (host:port,...)."
    )
    kafka_security: dict[str, str] = Field(
        default_factory=dict,
        description="Extra librdkafka settings (security.protocol, sasl.*), as a JSON object.",
    )
    kafka_sasl_username: str | None = Field(
        default=None,
        description="SASL username, merged into the librdkafka settings as sasl.username.",
    )
    kafka_sasl_password: SecretStr | None = Field(
        default=None,
        description="SASL password, merged into the librdkafka settings as sasl.password "
        "(give it as JARVIS_KAFKA_SASL_PASSWORD_FILE, a mounted Secret).",
    )
    kafka_ssl_key_password: SecretStr | None = Field(
        default=None,
        description="Password of the TLS client key (librdkafka ssl.key.password).",
    )
    kafka_msk_iam_region: str | None = Field(
        default=None,
        description="AWS region of an Amazon MSK cluster with IAM access control: the worker "
        "authenticates with SASL/OAUTHBEARER tokens signed with its AWS credentials (IRSA on "
        "EKS), and sets security.protocol SASL_SSL and sasl.mechanism OAUTHBEARER itself.",
    )
    control_topic: str = Field(
        default="spy_control", description="Topic the worker consumes commands from."
    )
    events_topic: str = Field(default="spy_events", description="Lifecycle events topic.")
    logs_topic: str = Field(default="spy_logs", description="Raw execution log topic.")
    dlq_topic: str = Field(
        default="spy_control.dlq", description="Dead-letter topic for rejected commands."
    )
    group_id: str = Field(default="jarvis-workers", description="Consumer group of the workers.")
    topic_replication: int = Field(
        default=1, ge=1, description="Replication factor `jarvis topics apply` uses for new topics."
    )
    topics_file: Path = Field(
        default=Path(__file__).resolve().parent / "topics" / "topics.toml",
        description="Topic declarations read by `jarvis topics apply` and `jarvis topics plan` "
        "(default: the copy packaged with Jarvis, jarvis/topics/topics.toml).",
    )

    # --- JarvisClient and the jarvis CLI ---
    client_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long JarvisClient waits for the broker: delivery of a command "
        "(librdkafka message.timeout.ms) and each metadata or offset lookup when following. "
        "30 s rides out a broker's leader election.",
    )
    cli_timeout_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How long a jarvis command waits for Kafka, Redis or the object store before "
        "it gives up with an error naming the address (the commands' --timeout). 5 s: far more "
        "than a healthy service needs, short enough for an operator to wait for.",
    )

    # --- Redis ---
    redis_url: str = Field(
        default="redis://127.0.0.1:16379/0", description="Redis for stop flags and live status."
    )
    redis_password: SecretStr | None = Field(
        default=None,
        description="Redis password (AUTH), used when JARVIS_REDIS_URL carries none.",
    )

    # --- live status view (jarvis.worker.status) ---
    status_enabled: bool = Field(
        default=True,
        description="Keep each execution's latest state in Redis for `jarvis status` and `jarvis ls`.",
    )
    status_ttl_s: float = Field(
        default=3 * 24 * 3600.0,
        gt=0,
        description="How long an execution's status stays in Redis after its last update (its "
        "terminal state, once it has one).",
    )
    status_flush_interval_s: float = Field(
        default=0.1,
        gt=0,
        le=10,
        description="How often the worker's status writer sends what piled up (one pipeline).",
    )
    status_queue_size: int = Field(
        default=10_000,
        ge=1,
        description="Executions with status updates waiting for Redis; past it (Redis down) the "
        "oldest ones' updates are dropped, counted and logged.",
    )
    status_index_size: int = Field(
        default=100_000,
        ge=1,
        description="Newest executions kept in each index `jarvis ls` reads (all, per state).",
    )

    # --- object storage ---
    s3_endpoint_url: str | None = Field(
        default="http://127.0.0.1:19000",
        description="S3 API endpoint; empty for AWS S3 itself.",
    )
    s3_bucket: str = Field(default="jarvis-artifacts", description="Bucket for artifacts.")
    s3_prefix: str = Field(default="executions", description="Key prefix under which artifacts go.")
    s3_region: str | None = Field(
        default=None, description="Region for S3 (AWS_DEFAULT_REGION if unset)."
    )
    artifact_url_expiry_s: int = Field(
        default=3600,
        ge=1,
        le=604_800,
        description="Lifetime of the presigned GET URLs that events carry for artifacts, seconds "
        "(1..604800: SigV4's 7-day maximum). Temporary credentials (IRSA) end a URL sooner: "
        "`url_expires_at` says when.",
    )

    # --- worker ---
    checkpoint_dir: Path = Field(
        default=Path(".jarvis/checkpoints"),
        description="Checkpoint volume: one journal directory per execution (EFS in production).",
    )
    worker_id: str = Field(
        default_factory=_default_worker_id, description="Name of this worker in events."
    )
    max_concurrency: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="Programs run at once per worker (one sandbox process each). Unset: two per CPU "
        'the pod may use (its cgroup quota, else its CPU affinity); see README "Sizing".',
    )
    execution_threads: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="Executions in flight per worker (running a program, or around one: lease, "
        "journal, waiting for delivery). Unset: 3 x max_concurrency, at least 8.",
    )
    ready_queue_size: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Admitted starts waiting for a thread; partitions pause when it is full "
        "and resume at half. Unset: 128 x max_concurrency, at least 1024.",
    )
    ready_queue_bytes: int = Field(
        default=64 * 2**20,
        ge=2**20,
        description="Bytes of the start messages in the ready queue; partitions also pause "
        "when they reach it (a start can carry up to 1 MiB of inputs).",
    )
    poll_timeout_s: float = Field(default=0.2, gt=0, description="Consumer poll timeout.")
    commit_interval_s: float = Field(
        default=0.2,
        gt=0,
        description="Finished offsets are committed at most this often (and at every rebalance "
        "and shutdown): one commit serves every execution finished meanwhile.",
    )
    session_timeout_s: float = Field(
        default=10.0,
        ge=1,
        le=3600,
        description="Kafka consumer session timeout (classic protocol): how long the group waits "
        "for a silent worker before giving its partitions away. Take-over of running executions "
        "does not wait for it (JARVIS_LEASE_TTL_S does).",
    )
    heartbeat_interval_s: float = Field(
        default=1.0, gt=0, description="Kafka consumer heartbeat interval (classic protocol)."
    )
    group_protocol: Literal["classic", "consumer"] = Field(
        default="classic",
        description="Consumer group protocol: classic (cooperative-sticky, client-side) or consumer "
        "(KIP-848, broker-side; needs Kafka 4.x; session timeout is then the broker's "
        "group.consumer.session.timeout.ms).",
    )
    stop_check_interval_s: float = Field(
        default=0.25,
        gt=0,
        description="How often a running execution looks for a stop flag in Redis (the 1 s stop guarantee).",
    )
    health_host: str = Field(
        default="0.0.0.0", description="Address of /livez, /readyz and /metrics."
    )
    health_port: int = Field(
        default=8080,
        ge=-1,
        le=65535,
        description="Port of the health/metrics server; 0 = any free port, -1 = off.",
    )
    metrics_lag_interval_s: float = Field(
        default=5.0,
        ge=0,
        le=3600,
        description="How often the consumer's per-partition lag (jarvis_consumer_lag) is "
        "refreshed, from librdkafka's statistics (statistics.interval.ms); 0 = not measured.",
    )
    journal_retention_s: float = Field(
        default=14 * 24 * 3600,
        gt=0,
        description="Finished executions' journals are removed after this long; keep it above "
        "spy_control's retention so a redelivered start still finds its outcome.",
    )
    journal_gc_interval_s: float = Field(
        default=3600.0,
        gt=0,
        description="How often a worker collects old journals (-ish: jittered by load).",
    )
    lease_ttl_s: float = Field(
        default=3.0,
        gt=1,
        description="Lease on a running execution; renewed every third of it. A crashed pod's "
        "running executions are resumed by a live worker once it lapses (take-over).",
    )
    takeover_interval_s: float = Field(
        default=0.5,
        gt=0,
        description="How often a worker looks for lapsed leases to take over.",
    )
    journal_sync: Literal["group", "fsync"] = Field(
        default="group",
        description="How journal appends become durable: group (one syncfs(2) serves every "
        "execution waiting; Linux) or fsync (one per journal).",
    )
    dead_letter_attempts: int = Field(
        default=5,
        ge=1,
        description="Tries to deliver a dead letter before the worker gives up on it (logging it "
        "whole at ERROR) and moves the offset on: a partition never waits for it for good.",
    )
    drain_grace_s: float = Field(
        default=20.0,
        gt=0,
        description="On SIGTERM, time allowed to hand running executions off; the pod's "
        "terminationGracePeriodSeconds must exceed it plus JARVIS_FLUSH_TIMEOUT_S (the chart "
        "derives it).",
    )
    flush_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="On SIGTERM, after the hand-off and the last commit: how long the producer "
        "may take to deliver what is still queued before the worker exits.",
    )
    max_program_bytes: int = Field(
        default=256 * 1024, gt=0, description="Largest program source accepted."
    )

    artifact_deadline_s: float = Field(
        default=300.0,
        gt=0,
        description="How long an artifact upload waits out an object-store outage (retrying with "
        "backoff, saying so in the log) before the execution fails.",
    )

    extra_books: list[str] = Field(
        default_factory=list,
        description="Books to load besides the `jarvis.books` entry points, as JSON list of "
        "'module:attribute' paths of Book objects (e.g. a team's Books not packaged yet).",
    )

    # --- telemetry (jarvis.telemetry) ---
    tracing: Literal["off", "otlp", "console"] = Field(
        default="off",
        description="OpenTelemetry traces: off, otlp (OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT, "
        "default http://localhost:4318) or console (spans as JSON on stderr, for debugging). "
        "The standard OTEL_* variables apply (service name, resource, sampler, batching); the "
        "start command's `traceparent` header is the parent of each execution's span.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="The worker's own log lines: text, or json (one object per line with ts, "
        "level, logger, message, worker, execution_id, trace_id, span_id, exception).",
    )

    @field_validator("tracing", "log_format", mode="before")
    @classmethod
    def _one_of(cls, value: object, info: Any) -> object:
        # pydantic's own message names the field, not the variable an operator set.
        choices = {"tracing": ("off", "otlp", "console"), "log_format": ("text", "json")}
        valid = choices[info.field_name]
        if isinstance(value, str) and value.strip().lower() in valid:
            return value.strip().lower()
        variable = f"{ENV_PREFIX}{info.field_name.upper()}"
        raise ValueError(f"{variable}={value!r} is not one of: {', '.join(valid)}")

    # --- raw execution logs ---
    max_log_value_bytes: int = Field(
        default=16 * 1024,
        gt=64,
        description="A record whose value's JSON is larger keeps a prefix and points to the "
        "whole value stored as an artifact (Kafka messages stay small; 16 KiB fits any screen).",
    )
    default_log_records: int = Field(
        default=100_000,
        gt=0,
        description="Record budget of an execution that asks for none: past it the log says so "
        "once and continues at level `effects`.",
    )

    # --- operator maxima for per-execution limits (options.limits) ---
    # Every limit has a cap, so that no start command can ask for an unbounded run
    # (``max_wall_s: 1e308``). A request above its cap is clamped to it; a cap below SPy's
    # default lowers the default too (jarvis.execution.config.effective_limits).
    limit_max_steps: int = Field(
        default=1_000_000_000,
        gt=0,
        description="Cap on options.limits.max_steps: 10x SPy's default, a minute or so of pure "
        "computation at SPy's 10-30M steps/s.",
    )
    limit_max_wall_s: float = Field(
        default=24 * 3600.0,
        gt=0,
        allow_inf_nan=False,
        description="Cap on options.limits.max_wall_s: a day. Longer work belongs in several "
        "executions (or a suspend and a later start).",
    )
    limit_max_memory_bytes: int = Field(
        default=2 * 1024**3,
        gt=0,
        description="Cap on options.limits.max_memory_bytes: 2 GiB (each sandbox's OS cap adds "
        "JARVIS_SANDBOX_MEMORY_OVERHEAD_BYTES on top; keep pods' memory above concurrency x both).",
    )
    limit_max_recursion: int = Field(
        default=800,
        gt=0,
        description="Cap on options.limits.max_recursion: a sandbox's Python allows 1000 frames and "
        "the host needs ~150 below the program (value rendering, the sink).",
    )
    limit_max_output_bytes: int = Field(
        default=100 * 1024**2,
        gt=0,
        description="Cap on options.limits.max_output_bytes: 100 MiB of printed text, 10x the default.",
    )
    limit_max_log_records: int = Field(
        default=1_000_000, gt=0, description="Cap on options.limits.max_log_records."
    )
    limit_max_artifacts: int = Field(
        default=10_000, gt=0, description="Cap on options.limits.max_artifacts: 10x the default."
    )
    limit_max_artifact_bytes: int = Field(
        default=10 * 1024**3,
        gt=0,
        description="Cap on options.limits.max_artifact_bytes: 10 GiB of object storage per run.",
    )
    limit_max_stored_log_bytes: int = Field(
        default=1024**3,
        gt=0,
        description="Cap on options.limits.max_stored_log_bytes: 1 GiB of oversized log values.",
    )
    limit_max_result_bytes: int = Field(
        default=256 * 1024**2,
        gt=0,
        description="Cap on options.limits.max_result_bytes: 256 MiB (a result is held in memory "
        "to be serialised and stored).",
    )

    # --- program.ref ---
    program_ref_buckets: list[str] | None = Field(
        default=None,
        description='Buckets a start command\'s program.ref may name, as a JSON list ("*": any '
        "bucket the worker's credentials reach). Unset: only the artifact bucket JARVIS_S3_BUCKET.",
    )

    # --- what the worker produces (jarvis.worker.publisher) ---
    max_event_bytes: int = Field(
        default=1_000_000,
        gt=4096,
        description="Largest lifecycle event or log record the worker produces (value + key + "
        "headers). Bigger ones are shrunk (texts and lists clipped, saying how much) before they "
        "are sent. Keep it below spy_events' and spy_logs' max.message.bytes (1 MiB) with room "
        "for Kafka's record overhead.",
    )
    max_dead_letter_bytes: int = Field(
        default=4_000_000,
        gt=4096,
        description="Largest dead letter (original value + key + headers); a bigger original is "
        "forwarded truncated, with headers giving its size. Keep it below spy_control.dlq's "
        "max.message.bytes (4 MiB). The producer's message.max.bytes is the larger of this and "
        "JARVIS_MAX_EVENT_BYTES, plus Kafka's overhead.",
    )

    # --- results ---
    max_inline_result_bytes: int = Field(
        default=256 * 1024,
        gt=0,
        description="A result whose JSON is larger is stored as the artifact `result.json` and the "
        "`completed` event carries `result_ref` instead (events stay far below the topic's "
        "max.message.bytes).",
    )

    # --- sandboxes (DESIGN.md §1b) ---
    max_sandbox_crashes: int = Field(
        default=2,
        ge=1,
        description="Sandbox deaths (signal, OS memory cap, CPU time, wall deadline) after which an "
        "execution fails for good on every pod (counted in its journal); before that it is "
        "retried by replay in a fresh sandbox.",
    )
    sandbox_memory_cap_bytes: int | None = Field(
        default=None,
        gt=0,
        description="Address space one run may add to its sandbox process (RLIMIT_AS). Unset: the "
        "run's max_memory_bytes plus JARVIS_SANDBOX_MEMORY_OVERHEAD_BYTES.",
    )
    sandbox_memory_overhead_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=0,
        description="Headroom of the OS memory cap above max_memory_bytes (interpreter, copies "
        "made while values cross to the host).",
    )
    sandbox_wall_grace_s: float = Field(
        default=2.0,
        gt=0,
        description="How long past max_wall_s a sandbox may run before the supervisor kills it.",
    )
    sandbox_stop_grace_s: float = Field(
        default=0.3,
        gt=0,
        description="How long a sandbox may take to honour a stop before it is killed.",
    )
    sandbox_max_runs: int = Field(
        default=1000, gt=0, description="Runs one sandbox process serves before it is replaced."
    )
    sandbox_recycle_bytes: int = Field(
        default=256 * 1024 * 1024,
        gt=0,
        description="Resident growth after which a sandbox is replaced once its run ends.",
    )


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)  # type: ignore[arg-type]
