"""The container image, checked without Docker: the Dockerfile and .dockerignore read
statically, the dependency locks against pyproject.toml, and the wheel the image installs
built and installed into a fresh venv, whose `jarvis` must find its data files."""

from __future__ import annotations

import fnmatch
import glob
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from jarvis.settings import Settings
from tests.helpers import ROOT

DOCKERFILE = ROOT / "Dockerfile"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIGEST = re.compile(r"^(?P<name>[a-z0-9./_-]+)(:(?P<tag>[\w.-]+))?@sha256:[0-9a-f]{64}$")
SECRET_LOOKING = (
    ".env", "*.env", ".env.*", "*.pem", "*.key", "*.p12", "*.pfx", "*credentials*", "*secret*",
    "id_rsa*", ".stack", ".venv", ".git", ".aws", ".kube", ".netrc", ".jarvis",
)  # fmt: skip


# --- reading a Dockerfile ---


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case
    args: str
    line: int


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined; comments and blank lines dropped."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        keyword, _, args = " ".join(p for p in pending if p).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        pending = []
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """One list per FROM, each starting with its FROM."""
    out: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            out.append([])
        assert out, f"line {ins.line}: {ins.keyword} before the first FROM"
        out[-1].append(ins)
    return out


def key_values(args: str) -> dict[str, str]:
    """LABEL / ENV in their key=value form."""
    pairs = {}
    for word in shlex.split(args):
        key, sep, value = word.partition("=")
        assert sep, f"{args!r}: use the key=value form"
        pairs[key] = value
    return pairs


def flags_and_words(args: str) -> tuple[dict[str, str], list[str]]:
    flags, words = {}, []
    for word in shlex.split(args):
        if word.startswith("--") and not words:
            key, _, value = word[2:].partition("=")
            flags[key] = value
        else:
            words.append(word)
    return flags, words


INSTRUCTIONS = parse_dockerfile(DOCKERFILE.read_text())
STAGES = stages(INSTRUCTIONS)
FINAL = STAGES[-1]


def final(keyword: str) -> list[Instruction]:
    return [i for i in FINAL if i.keyword == keyword]


def test_the_parser_reads_continuations_and_stages() -> None:
    parsed = parse_dockerfile(
        "# c\nFROM a@sha256:x AS b\nRUN one \\\n  # inside\n  two\nFROM b\nUSER 1\n"
    )
    assert [(i.keyword, i.args, i.line) for i in parsed] == [
        ("FROM", "a@sha256:x AS b", 2), ("RUN", "one two", 3), ("FROM", "b", 6), ("USER", "1", 7),
    ]  # fmt: skip
    assert [len(s) for s in stages(parsed)] == [2, 2]


# --- the Dockerfile ---


def test_multi_stage_and_every_from_is_pinned_by_digest() -> None:
    assert len(STAGES) >= 2, "a builder stage and a runtime stage"
    names: set[str] = set()
    digests = set()
    for stage in STAGES:
        flags, words = flags_and_words(stage[0].args)
        assert "platform" not in flags, (
            f"line {stage[0].line}: the index digest serves every platform"
        )
        image = words[0]
        if image not in names:
            assert DIGEST.match(image), (
                f"line {stage[0].line}: {image} is not pinned by @sha256 digest"
            )
            digests.add(image.split("@")[1])
        if len(words) == 3:
            assert words[1].upper() == "AS"
            names.add(words[2])
    labels = {k: v for i in final("LABEL") for k, v in key_values(i.args).items()}
    assert labels["org.opencontainers.image.base.digest"] in digests


def test_the_final_stage_runs_as_a_numeric_non_root_user() -> None:
    users = final("USER")
    assert users, "the final stage sets no USER: it would run as root"
    user, _, group = users[-1].args.partition(":")
    assert user.isdigit() and int(user) != 0, f"USER {users[-1].args}: a numeric, non-zero UID"
    assert group == "" or (group.isdigit() and int(group) != 0), f"USER {users[-1].args}: GID"
    # The user is last: nothing after it runs as root.
    assert FINAL.index(users[-1]) > max(FINAL.index(i) for i in final("RUN") + final("COPY"))


def test_entrypoint_is_jarvis_and_cmd_is_worker() -> None:
    (entrypoint,) = final("ENTRYPOINT")
    (cmd,) = final("CMD")
    assert json.loads(entrypoint.args) == ["jarvis"]  # exec form: signals reach jarvis
    assert json.loads(cmd.args) == ["worker"]  # the chart's hook passes ["topics", "apply"]
    assert not [i for i in INSTRUCTIONS if i.keyword == "HEALTHCHECK"]  # Kubernetes probes


def test_oci_labels_with_version_and_revision_from_build_args() -> None:
    labels = {k: v for i in final("LABEL") for k, v in key_values(i.args).items()}
    for key in ("source", "version", "revision", "licenses", "title", "description"):
        assert f"org.opencontainers.image.{key}" in labels, f"OCI label {key} is missing"
    args = {k: v for i in final("ARG") for k, _, v in [i.args.partition("=")]}
    assert labels["org.opencontainers.image.version"] == "${VERSION}" and "VERSION" in args
    assert labels["org.opencontainers.image.revision"] == "${REVISION}" and "REVISION" in args
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"]
    assert args["VERSION"] == PYPROJECT["project"]["version"], "default VERSION = pyproject's"


def test_environment_fits_a_read_only_root_filesystem() -> None:
    env = {k: v for i in final("ENV") for k, v in key_values(i.args).items()}
    assert env["HOME"] == "/tmp" and env["TMPDIR"] == "/tmp"
    assert env["PYTHONDONTWRITEBYTECODE"] == "1" and env["PYTHONUNBUFFERED"] == "1"
    assert env["JARVIS_CHECKPOINT_DIR"] == "/checkpoints"
    assert final("WORKDIR")[-1].args == "/tmp"
    # Every JARVIS_* the image sets is a real setting (a typo would be silently ignored).
    unknown = [
        k for k in env if k.startswith("JARVIS_") and k[7:].lower() not in Settings.model_fields
    ]
    assert unknown == []


def _sources(ins: Instruction) -> tuple[dict[str, str], list[str]]:
    flags, words = flags_and_words(ins.args)
    if words and words[0].startswith("["):
        words = json.loads(" ".join(words))
    return flags, words[:-1]


def test_copies_nothing_secret_and_every_source_exists() -> None:
    assert [i.line for i in INSTRUCTIONS if i.keyword == "ADD"] == [], "use COPY, not ADD"
    ignore = DockerIgnore.read(ROOT / ".dockerignore")
    copied = 0
    for ins in INSTRUCTIONS:
        if ins.keyword != "COPY":
            continue
        flags, sources = _sources(ins)
        assert sources, f"line {ins.line}: COPY without a source"
        if "from" in flags:
            continue  # from another stage, not from the build context
        for src in sources:
            where = f"line {ins.line}: COPY {src}"
            assert src.strip("/") not in ("", "."), f"{where}: copies the whole context"
            for part in Path(src).parts:
                hits = [p for p in SECRET_LOOKING if fnmatch.fnmatch(part.lower(), p)]
                assert not hits, f"{where}: secret-looking ({hits})"
            matches = glob.glob(src, root_dir=ROOT)
            assert matches, f"{where}: no such file in the repository"
            for m in matches:
                assert not ignore.excluded(m), f"{where}: .dockerignore excludes {m}"
                copied += 1
    assert copied >= 5  # locks, pyproject.toml, README.md, jarvis/


def _pip_commands() -> list[tuple[int, list[str]]]:
    out = []
    for ins in INSTRUCTIONS:
        if ins.keyword != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", ins.args):
            words = shlex.split(command)
            if "pip" in " ".join(words) and "install" in words:
                out.append((ins.line, words))
    return out


def test_pip_installs_only_from_the_locks_with_require_hashes() -> None:
    copied = {src for i in INSTRUCTIONS if i.keyword == "COPY" for src in _sources(i)[1]}
    kinds = []
    for line, words in _pip_commands():
        where = f"line {line}: {' '.join(words)}"
        if "uninstall" in words:
            continue
        if "--require-hashes" in words:
            lock = words[words.index("-r") + 1]
            assert f"requirements/{Path(lock).name}" in copied, f"{where}: lock not copied in"
            assert (ROOT / "requirements" / Path(lock).name).is_file(), f"{where}: no such lock"
            assert words[words.index("--only-binary") + 1] == ":all:", f"{where}: wheels only"
            kinds.append(Path(lock).name)
        else:
            # The only other install: the wheel built in this stage, alone and offline.
            assert {"--no-deps", "--no-index"} <= set(words), f"{where}: not from a lock"
            assert words[-1] == "/dist/*.whl", where
            kinds.append("wheel")
    assert sorted(kinds) == ["build.lock", "image.lock", "wheel"]


def test_the_chart_invocations_fit_the_entrypoint() -> None:
    # ENTRYPOINT ["jarvis"]: the chart passes only arguments, and they are jarvis commands.
    templates = ROOT / "charts" / "jarvis" / "templates"
    args = re.findall(r"args:\s*(\[.*\])", "".join(p.read_text() for p in templates.glob("*.yaml")))
    assert args, "the chart passes no args to the image"
    from typer.main import get_command

    from jarvis.cli.main import app

    cli = get_command(app)
    for found in args:
        words = json.loads(found)
        assert words[0] != "jarvis", f"args {found}: the entrypoint is jarvis already"
        command = cli
        for word in words:
            if word.startswith("-"):
                break
            sub = getattr(command, "commands", {}).get(word)
            assert sub is not None, f"args {found}: {word!r} is no jarvis command"
            command = sub
        assert not hasattr(command, "commands"), f"args {found}: names a group, not a command"


def test_pin_base_image_rewrites_every_from_and_the_label(tmp_path: Path) -> None:
    # A stand-in for crane (no registry here): the script's own rewriting is what is tested.
    for name in ("Dockerfile", "scripts/pin-base-image", "scripts/lib.sh"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    new = "sha256:" + "ab" * 32
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "crane").write_text(
        f'#!/bin/sh\n[ "$1 $2" = "digest python:3.11-slim-bookworm" ] && echo {new}\n'
    )
    (bin_dir / "crane").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "JARVIS_VENV": sys.prefix}
    script = [str(tmp_path / "scripts" / "pin-base-image")]
    proc = subprocess.run(script, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "Dockerfile").read_text()
    froms = [i.args for i in parse_dockerfile(text) if i.keyword == "FROM"]
    assert froms and all(f.startswith(f"python:3.11-slim-bookworm@{new} ") for f in froms)
    assert f'base.digest="{new}"' in text
    again = subprocess.run(script, capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0 and "already pinned" in again.stderr
    assert (tmp_path / "Dockerfile").read_text() == text


# --- .dockerignore ---


class DockerIgnore:
    """Docker's .dockerignore rules: patterns in order, the last match wins, ``!`` re-includes,
    a pattern matching a directory covers what is inside it, ``**`` spans directories."""

    def __init__(self, patterns: list[str]) -> None:
        self.rules = []
        for p in patterns:
            negate = p.startswith("!")
            p = p[1:] if negate else p
            self.rules.append((negate, re.compile(self._regex(p.strip().strip("/")))))

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        lines = [ln.strip() for ln in path.read_text().splitlines()]
        return cls([ln for ln in lines if ln and not ln.startswith("#")])

    @staticmethod
    def _regex(pattern: str) -> str:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return out + "$"

    def excluded(self, path: str) -> bool:
        parts = Path(path).parts
        candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        verdict = False
        for negate, rx in self.rules:
            if any(rx.match(c) for c in candidates):
                verdict = not negate
        return verdict


def test_the_dockerignore_reader() -> None:
    ignore = DockerIgnore(["*", "!src/", "**/*.pyc", "!keep.pyc"])
    assert ignore.excluded("other/file") and ignore.excluded("top")
    assert not ignore.excluded("src/a/b.py")
    assert ignore.excluded("src/a/b.pyc") and not ignore.excluded("keep.pyc")


def test_dockerignore_excludes_dangerous_paths_and_keeps_the_sources() -> None:
    ignore = DockerIgnore.read(ROOT / ".dockerignore")
    dangerous = [
        ".venv/bin/python", ".stack/kafka/data/x", ".git/config", ".env", "prod.env",
        "jarvis/.env", "jarvis/books/.env.local", "deploy/tls.key", "jarvis/tls.pem",
        "jarvis/secrets/token", "jarvis/credentials.json", ".aws/credentials",
        ".pytest_cache/v/x", ".mypy_cache/3.11/x.json", ".ruff_cache/x", ".hypothesis/x",
        "jarvis/__pycache__/settings.cpython-311.pyc", ".jarvis/checkpoints/e1/journal.log",
        "jarvis/.jarvis/local/x", "tests/test_image.py", "jarvis_spy.egg-info/PKG-INFO",
        "build/lib/jarvis/x.py", "dist/jarvis.whl",
    ]  # fmt: skip
    assert [p for p in dangerous if not ignore.excluded(p)] == []
    # ...but nothing the image needs: every tracked file under jarvis/, the locks, the metadata.
    tracked = subprocess.run(
        ["git", "ls-files", "jarvis", "requirements", "pyproject.toml", "README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    assert len(tracked) > 50
    assert [p for p in tracked if ignore.excluded(p)] == []


# --- the dependency locks ---


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    marker: str
    hashes: tuple[str, ...]


def read_lock(path: Path) -> dict[str, Pin]:
    entries: list[str] = []
    for raw in path.read_text().splitlines():
        line = (
            raw.split(" #", 1)[0].strip() if not raw.strip().startswith("--hash") else raw.strip()
        )
        if not line or line.startswith("#"):
            continue
        if raw[:1].isspace() and entries and entries[-1].endswith("\\"):
            entries[-1] = entries[-1][:-1] + " " + line
        else:
            entries.append(line)
    pins = {}
    for entry in entries:
        assert not entry.endswith("\\"), f"{path.name}: dangling continuation in {entry!r}"
        spec, *hashes = re.split(r"\s+--hash=", entry)
        req = Requirement(spec.strip())
        assert len(req.specifier) == 1 and next(iter(req.specifier)).operator == "==", (
            f"{path.name}: {spec!r} is not pinned with =="
        )
        assert hashes, f"{path.name}: {req.name} has no --hash"
        for h in hashes:
            assert re.fullmatch(r"sha256:[0-9a-f]{64}", h.strip()), f"{path.name}: {req.name}: {h}"
        name = canonicalize_name(req.name)
        assert name not in pins, f"{path.name}: {req.name} pinned twice"
        pins[name] = Pin(
            name,
            Version(next(iter(req.specifier)).version),
            str(req.marker or ""),
            tuple(hashes),
        )
    return pins


def _check_pinned(pins: dict[str, Pin], requirement: str, lock: str) -> None:
    req = Requirement(requirement)
    pin = pins.get(canonicalize_name(req.name))
    assert pin is not None, f"{lock} lacks {req.name} (run scripts/lock)"
    assert req.specifier.contains(pin.version, prereleases=True), (
        f"{lock} pins {req.name}=={pin.version}, outside {req.specifier} (run scripts/lock)"
    )
    for extra in sorted(req.extras):
        # What the extra brings (e.g. redis[hiredis] -> hiredis), from the installed metadata.
        for dep in importlib.metadata.requires(req.name) or []:
            dreq = Requirement(dep)
            if (
                dreq.marker
                and dreq.marker.evaluate({"extra": extra})
                and not dreq.marker.evaluate({"extra": ""})
            ):
                _check_pinned(pins, f"{dreq.name}{dreq.specifier}", lock)


def test_the_image_lock_pins_every_runtime_dependency_with_hashes() -> None:
    pins = read_lock(ROOT / "requirements" / "image.lock")
    for dep in PYPROJECT["project"]["dependencies"]:
        _check_pinned(pins, dep, "requirements/image.lock")
    assert canonicalize_name("hiredis") in pins  # redis[hiredis]: the extra is locked too
    # Runtime only: every pin is reachable from the runtime dependencies (on some platform),
    # so no dev or bench tool slipped in.
    reachable = _closure(PYPROJECT["project"]["dependencies"])
    assert sorted(set(pins) - reachable) == []
    assert "pytest" in _closure(PYPROJECT["project"]["optional-dependencies"]["dev"])
    # Compiled packages carry a wheel per platform: more than one hash.
    assert len(pins["orjson"].hashes) >= 2 and len(pins["confluent-kafka"].hashes) >= 2


def _closure(requirements: list[str]) -> set[str]:
    """Names reachable from ``requirements`` in the installed metadata; a requirement that
    depends on the platform or Python version counts (the lock covers them all), one
    behind an extra only when that extra is asked for."""
    seen: set[str] = set()
    todo = [(Requirement(r), set(Requirement(r).extras)) for r in requirements]
    while todo:
        req, extras = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen and not extras:
            continue
        seen.add(name)
        try:
            deps = importlib.metadata.requires(req.name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here (another platform's): a leaf
        for dep in deps:
            d = Requirement(dep)
            behind_extra = d.marker is not None and "extra" in str(d.marker)
            if behind_extra and not any(d.marker.evaluate({"extra": e}) for e in extras):  # type: ignore[union-attr]
                continue
            if canonicalize_name(d.name) not in seen or d.extras:
                todo.append((d, set(d.extras)))
    return seen


def test_the_build_lock_pins_the_build_requirements_with_hashes() -> None:
    pins = read_lock(ROOT / "requirements" / "build.lock")
    for req in PYPROJECT["build-system"]["requires"]:
        _check_pinned(pins, req, "requirements/build.lock")


def test_the_lock_reader_refuses_unhashed_and_unpinned_lines(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text("a==1.0 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via x\nb==2.0\n")
    with pytest.raises(AssertionError, match="b has no --hash"):
        read_lock(lock)
    lock.write_text("a>=1.0 --hash=sha256:" + "0" * 64 + "\n")
    with pytest.raises(AssertionError, match="not pinned"):
        read_lock(lock)
    lock.write_text("a==1.0 ; python_version < '3.12' \\\n    --hash=sha256:" + "1" * 64 + "\n")
    assert read_lock(lock)["a"].marker == 'python_version < "3.12"'


# --- the wheel the image installs ---


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Jarvis wheel, built offline from a copy of the source (no build/ in the repo)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "jarvis", src / "jarvis", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    out = base / "dist"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "--wheel-dir", str(out), str(src)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = out.glob("jarvis_spy-*.whl")
    return built


def test_the_wheel_carries_every_data_file_the_cli_needs(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    schemas = sorted(p.name for p in (ROOT / "jarvis" / "topics" / "schemas").glob("*.json"))
    assert len(schemas) >= 3
    needed = ["jarvis/topics/topics.toml", "jarvis/py.typed"]
    needed += [f"jarvis/topics/schemas/{n}" for n in schemas]
    assert [n for n in needed if n not in names] == []
    sources = {p.relative_to(ROOT).as_posix() for p in (ROOT / "jarvis").rglob("*.py")}
    assert sorted(sources - names) == [], "modules missing from the wheel"
    assert not [n for n in names if n.startswith(("tests/", "topics/")) or "__pycache__" in n]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding only the wheel; its dependencies resolve from this environment's
    site-packages, added after the venv's own (a .pth), so `jarvis` comes from the wheel."""
    root = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=60
    )
    python = root / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    import site as here

    (Path(site) / "_jarvis_test_deps.pth").write_text("\n".join(here.getsitepackages()) + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps",
         "--no-index", str(wheel)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return root


def _installed(
    venv: Path, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("JARVIS_")
    }
    return subprocess.run(
        [str(venv / "bin" / args[0]), *args[1:]],
        capture_output=True, text=True, cwd=tmp_path, env={**clean, **env}, timeout=60,
    )  # fmt: skip


def test_the_installed_jarvis_is_the_wheel_not_the_source(venv: Path, tmp_path: Path) -> None:
    proc = _installed(
        venv, tmp_path, "python", "-c",
        "import jarvis, jarvis.settings as s; print(jarvis.__file__); print(s.Settings().topics_file)",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    module, topics = (Path(p) for p in proc.stdout.split())
    assert module.is_relative_to(venv) and topics.is_relative_to(venv)
    assert not module.is_relative_to(ROOT)


def test_the_installed_cli_plans_the_packaged_topics(venv: Path, tmp_path: Path) -> None:
    proc = _installed(venv, tmp_path, "jarvis", "topics", "plan", "--json")
    assert proc.returncode == 0, proc.stderr
    assert str(venv) in proc.stderr and "topics.toml" in proc.stderr  # read from the install
    declared = tomllib.loads((ROOT / "jarvis" / "topics" / "topics.toml").read_text())["topics"]
    planned = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [p["role"] for p in planned] == ["control", "events", "logs", "dlq"]
    for p in planned:
        d = declared[p["role"]]
        assert p["topic"] == d["name"] and p["partitions"] == d["partitions"]
        assert p["config"]["max.message.bytes"] == str(d["max_message_bytes"])


def test_the_installed_cli_checks_and_exports_the_packaged_schemas(
    venv: Path, tmp_path: Path
) -> None:
    proc = _installed(venv, tmp_path, "jarvis", "contract", "export", "--check")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the packaged schemas match its models
    out = tmp_path / "schemas"
    proc = _installed(venv, tmp_path, "jarvis", "contract", "export", "--dir", str(out))
    assert proc.returncode == 0, proc.stderr
    written = sorted(p.name for p in out.iterdir())
    source = sorted((ROOT / "jarvis" / "topics" / "schemas").glob("*.json"))
    assert written == [p.name for p in source]
    for p in source:
        assert (out / p.name).read_bytes() == p.read_bytes()


def test_jarvis_topics_file_still_overrides_the_packaged_declarations(
    venv: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "mine.toml"
    text = (ROOT / "jarvis" / "topics" / "topics.toml").read_text()
    mine.write_text(text.replace("partitions = 12", "partitions = 5", 1))
    proc = _installed(
        venv, tmp_path, "jarvis", "topics", "plan", "--json", JARVIS_TOPICS_FILE=str(mine)
    )
    assert proc.returncode == 0, proc.stderr
    assert str(mine) in proc.stderr
    assert json.loads(proc.stdout.splitlines()[0])["partitions"] == 5


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("partitions = 12", "", 1), "[topics.control] is missing partitions"),
        (lambda t: t.replace("partitions = 12", 'partitions = "lots"', 1),
         "[topics.control] partitions must be a positive integer, not 'lots'"),
        (lambda t: t.replace("[topics.dlq]", "[topics.dead]"), "[topics.dlq] is missing"),
        (lambda t: t + "\n[[oops", "cannot read topic declarations from"),
    ],
)  # fmt: skip
def test_a_broken_declarations_file_is_named_with_the_table_at_fault(
    tmp_path: Path, edit: object, message: str
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(edit((ROOT / "jarvis" / "topics" / "topics.toml").read_text()))  # type: ignore[operator]
    proc = subprocess.run(
        [sys.executable, "-m", "jarvis.cli", "topics", "plan"], capture_output=True, text=True,
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "JARVIS_TOPICS_FILE": str(broken)},
        timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert message in proc.stderr and str(broken) in proc.stderr
    assert "Traceback" not in proc.stderr
