"""Other people's code imports these names: changing them is a breaking change."""

import jarvis.client
import jarvis.contract
import jarvis.spy


def test_client_exports() -> None:
    assert sorted(jarvis.client.__all__) == [
        "JarvisClient",
        "LifecycleEvent",
        "LogRecord",
        "StopMode",
        "Update",
    ]


def test_contract_exports() -> None:
    assert sorted(jarvis.contract.__all__) == sorted(
        [
            "CONTRACT_VERSION",
            "STOP_MODES",
            "TERMINAL_EVENTS",
            "ArtifactRef",
            "ErrorInfo",
            "ExecutionOptions",
            "LifecycleEvent",
            "LimitOverrides",
            "LogRecord",
            "ProgramSpec",
            "StartCommand",
            "StopCommand",
            "StopMode",
            "TraceFrame",
            "dump",
            "parse_control",
        ]
    )


def test_spy_exports() -> None:
    assert {"compile_program", "run_program", "Program", "Site", "Host", "render_value"} <= set(
        jarvis.spy.__all__
    )
