"""TCP ports: picking free ones for tests and refusing to start on a taken one."""

import socket

import psutil

from stockwire.devstack.errors import StackError


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now, so parallel test runs never collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_is_free(host: str, port: int) -> bool:
    """True if a server could listen on ``host:port``.

    SO_REUSEADDR mirrors what Tansu, PostgreSQL and uvicorn set, so a port held only by
    connections in TIME_WAIT counts as free, as it is for them.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def ensure_port_free(host: str, port: int, purpose: str, hint: str) -> None:
    """Raise a StackError naming who holds ``host:port`` (when the OS tells us) and ``hint``."""
    if port_is_free(host, port):
        return
    holder = listener_of(port)
    held_by = f" by {holder}" if holder else ""
    raise StackError(f"port {port} for {purpose} is already in use{held_by}. {hint}")


def listener_of(port: int) -> str | None:
    """A short description of the process listening on ``port``, or None if unknown."""
    try:
        connections = psutil.net_connections(kind="tcp")
    except psutil.Error:
        return None
    for conn in connections:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            if conn.pid is None:
                return "another process"
            try:
                cmdline = " ".join(psutil.Process(conn.pid).cmdline())
            except psutil.Error:
                cmdline = "?"
            return f"pid {conn.pid} ({cmdline[:120]})"
    return None
