#!/usr/bin/env python3
"""A real Neo4j Community 5.26 server for flowreg development and CI (stdlib only).

Neo4j is assembled from Maven Central by the small Maven project next to this
file (``pom.xml`` + ``src/main/java/flowreg/neo4j/Launcher.java``): an embedded
``DatabaseManagementService`` serving Bolt on 127.0.0.1 only, HTTP off, no
plugins, and authentication disabled by default (safe only because it listens on
loopback; see Launcher.java).

Python API (used by the test suite)::

    import neo4j_server                      # tools/neo4j on sys.path
    reason = neo4j_server.java_available()   # None, or why it can't run here
    neo4j_server.build()                     # mvn package, skipped when up to date
    with neo4j_server.start() as srv:        # free port, throwaway data dir
        driver = neo4j.GraphDatabase.driver(srv.uri, auth=srv.auth)

Command line::

    python tools/neo4j/neo4j_server.py build            # just build
    python tools/neo4j/neo4j_server.py start [--port N] [--data DIR]
    python tools/neo4j/neo4j_server.py check            # can this machine run it?

``start`` runs in the foreground (Ctrl-C / SIGTERM stops it cleanly), prints
the Bolt URI, and defaults to port 7687 and the persistent data directory
``tools/neo4j/run/data`` (git-ignored).

Environment knobs: ``JAVA_HOME`` (which java), ``FLOWREG_NEO4J_HEAP`` (default
1g), ``FLOWREG_NEO4J_PAGECACHE`` (default 512m), ``FLOWREG_NEO4J_JAVA_OPTS``
(extra JVM flags, space separated).
"""

from __future__ import annotations

import argparse
import atexit
import collections
import contextlib
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path

try:  # POSIX only; without it concurrent builds are simply not serialised
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "BuildError",
    "Neo4jServerError",
    "Server",
    "StartError",
    "build",
    "is_built",
    "java_available",
    "start",
]

HERE = Path(__file__).resolve().parent
POM = HERE / "pom.xml"
SRC = HERE / "src"
TARGET = HERE / "target"
LIB = TARGET / "lib"
CLASSES = TARGET / "classes"
STAMP = TARGET / ".flowreg-build-stamp"
LOCK = TARGET / ".build.lock"
RUN_DIR = HERE / "run"  # git-ignored; default data dir of the CLI
MAIN_CLASS = "flowreg.neo4j.Launcher"
LOG_NAME = "neo4j-server.log"
MIN_JAVA = 17

DEFAULT_HEAP = os.environ.get("FLOWREG_NEO4J_HEAP", "1g")
DEFAULT_PAGECACHE = os.environ.get("FLOWREG_NEO4J_PAGECACHE", "512m")
CLI_DEFAULT_PORT = 7687

READY_RE = re.compile(r"NEO4J READY (bolt://[0-9A-Za-z.\-\[\]:]+)")
VERSION_RE = re.compile(r"NEO4J VERSION (\S+)")
FAILED_MARK = "NEO4J FAILED"

# The JVM flags Neo4j's own launcher uses (neo4j.conf, server.jvm.additional),
# minus -XX:+AlwaysPreTouch (it would commit the whole heap at once).
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Djdk.tls.ephemeralDHKeySize=2048",
    "-Djdk.tls.rejectClientInitiatedRenegotiation=true",
    "-XX:FlightRecorderOptions=stackdepth=256",
    "-XX:+UnlockDiagnosticVMOptions",
    "-XX:+DebugNonSafepoints",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "-Djava.awt.headless=true",
]


class Neo4jServerError(RuntimeError):
    """Base class of this module's errors."""


class BuildError(Neo4jServerError):
    """The Maven build failed (the message ends with Maven's output tail)."""


class StartError(Neo4jServerError):
    """The server did not become ready (the message ends with its log tail)."""


# --------------------------------------------------------------------------- tools


def _java_cmd() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:
        cand = Path(home) / "bin" / "java"
        if cand.is_file() and os.access(cand, os.X_OK):
            return str(cand)
    return shutil.which("java")


def _mvn_cmd() -> str | None:
    return shutil.which("mvn")


def _java_major(java: str) -> int | None:
    try:
        proc = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', proc.stderr + proc.stdout)
    if not m:
        return None
    major = int(m.group(1))
    if major == 1 and m.group(2):  # "1.8.0_392" style
        major = int(m.group(2))
    return major


def java_available() -> str | None:
    """Return None when this machine can build and run the server, else the reason.

    Needs Java 17+ (``$JAVA_HOME/bin/java`` or ``java`` on PATH) and, unless the
    build output is already up to date, Maven (``mvn`` on PATH).
    """
    java = _java_cmd()
    if java is None:
        return "Java not found (install a JDK 17+, or set JAVA_HOME)"
    major = _java_major(java)
    if major is None:
        return f"could not determine the Java version of {java}"
    if major < MIN_JAVA:
        return f"Java {MIN_JAVA}+ needed, {java} is Java {major}"
    if _mvn_cmd() is None and not is_built():
        return "Maven (mvn) not found on PATH, and tools/neo4j is not built yet"
    return None


# --------------------------------------------------------------------------- build


def _input_digest() -> str:
    h = hashlib.sha256()
    files = [POM] + sorted(p for p in SRC.rglob("*") if p.is_file())
    for p in files:
        h.update(str(p.relative_to(HERE)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def is_built() -> bool:
    """True when target/ holds a build of the current pom.xml and sources."""
    try:
        stamp = STAMP.read_text().strip()
    except OSError:
        return False
    return (
        stamp == _input_digest()
        and (CLASSES / "flowreg" / "neo4j" / "Launcher.class").is_file()
        and any(LIB.glob("neo4j-5.*.jar"))
    )


@contextlib.contextmanager
def _build_lock():
    TARGET.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "a+") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _run_mvn(args: list[str], quiet: bool) -> tuple[int, str]:
    mvn = _mvn_cmd()
    if mvn is None:
        raise BuildError("Maven (mvn) not found on PATH")
    cmd = [mvn, "-B", "-Dstyle.color=never", *(["-q"] if quiet else []), *args]
    tail: collections.deque[str] = collections.deque(maxlen=80)
    env = dict(os.environ)
    env.setdefault("MAVEN_OPTS", "-Xmx512m")
    proc = subprocess.Popen(
        cmd,
        cwd=HERE,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        env=env,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        line = re.sub(r"\x1b\[[0-9;]*m", "", line)
        tail.append(line.rstrip("\n"))
        if not quiet:
            sys.stdout.write(line)
            sys.stdout.flush()
    return proc.wait(), "\n".join(tail)


def build(quiet: bool = True, force: bool = False) -> Path:
    """Build target/ (``mvn -q -B package``) unless it is up to date; return target/.

    Tries Maven offline (``-o``) first and falls back to online when the local
    repository lacks artifacts. Raises BuildError with Maven's output tail.
    """
    with _build_lock():
        if not force and is_built():
            return TARGET
        java = _java_cmd()
        if java is None or (_java_major(java) or 0) < MIN_JAVA:
            raise BuildError(java_available() or f"Java {MIN_JAVA}+ required")
        # Drop stale jars so a changed Neo4j version never leaves two on the classpath.
        shutil.rmtree(LIB, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            STAMP.unlink()
        rc, out = _run_mvn(["-o", "package"], quiet)
        if rc != 0:
            if not quiet:
                print("[neo4j_server] offline build failed; retrying online", flush=True)
            rc, out = _run_mvn(["package"], quiet)
        if rc != 0:
            raise BuildError(f"Maven build of {HERE.name}/ failed (exit {rc}); last output:\n{out}")
        STAMP.write_text(_input_digest() + "\n")
        if not is_built():
            raise BuildError(f"Maven succeeded but {TARGET} lacks the expected layout")
        return TARGET


# --------------------------------------------------------------------------- server

_live: weakref.WeakSet[Server] = weakref.WeakSet()


def _tail(path: Path, start: int = 0, lines: int = 60) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(start)
            data = fh.read().decode("utf-8", "replace")
    except OSError as e:
        return f"(no log: {e})"
    return "\n".join(data.splitlines()[-lines:])


class Server:
    """A running Neo4j server process. Stop it with stop() or a ``with`` block."""

    def __init__(
        self,
        process: subprocess.Popen,
        uri: str,
        data_dir: Path,
        log_path: Path,
        *,
        version: str | None,
        password: str | None,
        owns_data_dir: bool,
        started_in: float,
        log_handle,
        log_start: int = 0,
    ) -> None:
        self.process = process
        self.uri = uri
        self.host, _, port = uri.rpartition("//")[2].rpartition(":")
        self.port = int(port)
        self.data_dir = data_dir
        self.log_path = log_path
        self.version = version
        self.password = password
        self.started_in = started_in
        self.returncode: int | None = None
        self.clean_shutdown: bool | None = None
        self._owns_data_dir = owns_data_dir
        self._log_start = log_start
        self._final_log: str | None = None
        self._log_handle = log_handle
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def auth(self) -> tuple[str, str]:
        """Credentials for the driver (any password works when auth is disabled)."""
        return ("neo4j", self.password if self.password is not None else "anything")

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 60) -> int | None:
        """Stop the server: SIGTERM (clean shutdown), SIGKILL after `timeout` s. Idempotent.

        Returns 0 after a clean shutdown (the launcher printed NEO4J STOPPED; the JVM
        itself exits with 143 on SIGTERM, kept in ``process.returncode``), else the
        process's exit code (negative: killed by that signal).
        """
        with self._lock:
            if self.returncode is not None:
                return self.returncode
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        self.process.kill()
                    self.process.wait(30)
            raw = self.process.returncode
            log = _tail(self.log_path, self._log_start, lines=200)
            self._final_log = "\n".join(log.splitlines()[-60:])
            self.clean_shutdown = "NEO4J STOPPED" in log and raw in (0, 143, -signal.SIGTERM)
            self.returncode = 0 if self.clean_shutdown else raw
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()
            if self._log_handle is not None:
                with contextlib.suppress(OSError):
                    self._log_handle.close()
                self._log_handle = None
            if self._owns_data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)
                self._owns_data_dir = False
            _live.discard(self)
            return self.returncode

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of this run's server log (kept in memory after stop())."""
        if self.log_path.exists():
            return _tail(self.log_path, self._log_start, lines)
        return "\n".join((self._final_log or "").splitlines()[-lines:])

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited {self.process.returncode}"
        return f"<neo4j_server.Server {self.uri} pid={self.pid} {state} data={self.data_dir}>"


@atexit.register
def _stop_all() -> None:
    for srv in list(_live):
        with contextlib.suppress(Exception):
            srv.stop(timeout=30)


def start(
    port: int | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    timeout: float = 180,
    *,
    heap: str = DEFAULT_HEAP,
    pagecache: str = DEFAULT_PAGECACHE,
    password: str | None = None,
    build_first: bool = True,
    java_opts: list[str] | None = None,
) -> Server:
    """Start a server and wait (up to `timeout` s) until Bolt accepts connections.

    port: Bolt port on 127.0.0.1; None picks a free one (the OS chooses, race free).
    data_dir: Neo4j home (stores, logs/debug.log, and this module's neo4j-server.log);
        None makes a temporary directory that stop() deletes.
    password: None keeps authentication disabled (loopback only); a string of 8+
        characters enables it with that password for user ``neo4j``.
    build_first: run build() first (cheap when up to date).
    """
    if build_first:
        build()
    elif not is_built():
        raise StartError(f"{TARGET} is not built; call build() first")
    java = _java_cmd()
    if java is None:
        raise StartError(java_available() or "Java not found")
    if password is not None and len(password) < 8:
        raise ValueError("password must have at least 8 characters")

    owns = data_dir is None
    ddir = Path(tempfile.mkdtemp(prefix="flowreg-neo4j-")) if owns else Path(data_dir)
    ddir = ddir.resolve()
    ddir.mkdir(parents=True, exist_ok=True)
    log_path = ddir / LOG_NAME
    log_fh = open(log_path, "ab")  # noqa: SIM115 - owned by the Server
    log_start = log_fh.tell()

    extra = os.environ.get("FLOWREG_NEO4J_JAVA_OPTS", "").split()
    cmd = [
        java,
        f"-Xmx{heap}",
        "-Xms128m",
        *JVM_FLAGS,
        *extra,
        *(java_opts or []),
        "-cp",
        os.pathsep.join([str(LIB / "*"), str(CLASSES)]),
        MAIN_CLASS,
        "--data",
        str(ddir),
        "--port",
        str(0 if port is None else int(port)),
        "--pagecache",
        pagecache,
        "--exit-on-stdin-eof",  # the server dies with us, never lingers
    ]
    env = dict(os.environ)
    env.pop("NEO4J_PASSWORD", None)
    env.pop("NEO4J_AUTH_ENABLED", None)
    if password is not None:
        cmd.append("--auth")
        env["NEO4J_PASSWORD"] = password  # via env, not argv: invisible in `ps`

    t0 = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=ddir,
        stdin=subprocess.PIPE,
        stdout=log_fh,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # Ctrl-C in a terminal goes to us; we stop it cleanly
    )

    def fail(msg: str) -> StartError:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(30)
        with contextlib.suppress(OSError):
            proc.stdin.close()  # type: ignore[union-attr]
        log_fh.close()
        tail = _tail(log_path, log_start)
        if owns:
            shutil.rmtree(ddir, ignore_errors=True)
        return StartError(f"{msg}\n--- server log ({log_path}) ---\n{tail}")

    deadline = t0 + timeout
    uri = version = None
    while True:
        text = _tail(log_path, log_start, lines=400)
        m = READY_RE.search(text)
        if m:
            uri = m.group(1)
            vm = VERSION_RE.search(text)
            version = vm.group(1) if vm else None
            break
        if FAILED_MARK in text:
            raise fail("Neo4j failed to start")
        if proc.poll() is not None:
            raise fail(f"Neo4j exited with code {proc.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise fail(f"Neo4j not ready after {timeout:.0f} s")
        time.sleep(0.1)

    srv = Server(
        proc,
        uri,
        ddir,
        log_path,
        version=version,
        password=password,
        owns_data_dir=owns,
        started_in=time.monotonic() - t0,
        log_handle=log_fh,
        log_start=log_start,
    )
    _live.add(srv)
    # The launcher already did a Bolt handshake; this only double-checks the port.
    try:
        socket.create_connection((srv.host, srv.port), timeout=5).close()
    except OSError as e:
        srv.stop()
        raise StartError(f"ready line seen but {uri} refuses connections: {e}") from e
    return srv


# --------------------------------------------------------------------------- CLI


def _cmd_build(args: argparse.Namespace) -> int:
    reason = java_available()
    if reason:
        print(f"cannot build: {reason}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    try:
        was_built = is_built() and not args.force
        build(quiet=not args.verbose, force=args.force)
    except BuildError as e:
        print(e, file=sys.stderr)
        return 1
    what = "up to date" if was_built else f"built in {time.monotonic() - t0:.1f} s"
    print(f"{TARGET}: {what}")
    return 0


def _cmd_check(_args: argparse.Namespace) -> int:
    reason = java_available()
    print(reason or f"ok (java: {_java_cmd()}, mvn: {_mvn_cmd()}, built: {is_built()})")
    return 1 if reason else 0


def _cmd_start(args: argparse.Namespace) -> int:
    reason = java_available()
    if reason:
        print(f"cannot start Neo4j: {reason}", file=sys.stderr)
        return 2
    password = None
    if args.auth:
        password = os.environ.get("NEO4J_PASSWORD")
        if not password or len(password) < 8:
            print("--auth needs NEO4J_PASSWORD (8+ characters) in the environment", file=sys.stderr)
            return 2
    data = Path(args.data) if args.data else RUN_DIR / "data"
    try:
        build(quiet=not args.verbose)
        srv = start(
            port=args.port,
            data_dir=data,
            timeout=args.timeout,
            heap=args.heap,
            pagecache=args.pagecache,
            password=password,
            build_first=False,
        )
    except Neo4jServerError as e:
        print(e, file=sys.stderr)
        return 1

    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with contextlib.suppress(AttributeError):
        signal.signal(signal.SIGHUP, on_signal)

    print(srv.uri, flush=True)
    print(
        f"Neo4j {srv.version or '?'} ready in {srv.started_in:.1f} s (pid {srv.pid}); "
        f"auth {'enabled' if password else 'disabled, any password works'}; "
        f"data {srv.data_dir}; log {srv.log_path}. Ctrl-C stops it.",
        file=sys.stderr,
        flush=True,
    )
    while not stopping.is_set() and srv.is_running():
        stopping.wait(0.5)
    if not srv.is_running():
        print(f"Neo4j exited unexpectedly (code {srv.process.returncode}):", file=sys.stderr)
        print(srv.log_tail(), file=sys.stderr)
        srv.stop()
        return 1
    print("stopping Neo4j...", file=sys.stderr, flush=True)
    rc = srv.stop()
    print(f"Neo4j stopped (exit {rc})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="neo4j_server.py", description="Build and run flowreg's dev/CI Neo4j server."
    )
    sub = p.add_subparsers(dest="cmd", required=True)

    b = sub.add_parser("build", help="build tools/neo4j/target (mvn package)")
    b.add_argument("--force", action="store_true", help="rebuild even when up to date")
    b.add_argument("-v", "--verbose", action="store_true", help="show Maven's output")
    b.set_defaults(func=_cmd_build)

    c = sub.add_parser("check", help="say whether Java/Maven are there")
    c.set_defaults(func=_cmd_check)

    s = sub.add_parser("start", help="build if needed, then run in the foreground")
    s.add_argument(
        "--port",
        type=int,
        default=CLI_DEFAULT_PORT,
        help=f"Bolt port on 127.0.0.1 (default {CLI_DEFAULT_PORT}; 0 = any free port)",
    )
    s.add_argument("--data", help="data directory (default: tools/neo4j/run/data, persistent)")
    s.add_argument("--heap", default=DEFAULT_HEAP, help=f"max heap (default {DEFAULT_HEAP})")
    s.add_argument(
        "--pagecache", default=DEFAULT_PAGECACHE, help=f"page cache (default {DEFAULT_PAGECACHE})"
    )
    s.add_argument(
        "--auth",
        action="store_true",
        help="enable authentication; password from env NEO4J_PASSWORD",
    )
    s.add_argument("--timeout", type=float, default=180, help="seconds to wait for ready")
    s.add_argument("-v", "--verbose", action="store_true", help="show Maven's output")
    s.set_defaults(func=_cmd_start)

    args = p.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
