"""systemd's notify protocol (``Type=notify``): READY, WATCHDOG and STOPPING datagrams.

Sent only when systemd asks for them through ``$NOTIFY_SOCKET``; elsewhere these are no-ops.
The protocol is one datagram on a Unix socket, so no library is needed for it.
"""

from __future__ import annotations

import os
import socket


def send(message: str, environ: "os._Environ[str] | dict[str, str]" = os.environ) -> bool:
    """Send one notification; ``False`` when not running under systemd or the socket is gone."""
    address = environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):  # abstract namespace
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError:
        return False
    return True


def watchdog_interval(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> float | None:
    """How often to ping: half of systemd's ``WatchdogSec=`` (``$WATCHDOG_USEC``), as sd_watchdog_enabled
    advises; ``None`` when no watchdog is set for this process."""
    pid = environ.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec / 2e6 if usec > 0 else None


def ready() -> bool:
    return send("READY=1\nSTATUS=polling")


def watchdog() -> bool:
    return send("WATCHDOG=1")


def stopping() -> bool:
    return send("STOPPING=1\nSTATUS=finishing the jobs in progress")
