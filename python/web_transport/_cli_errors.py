"""How the ``web-transport`` command reports a failure: ``error: <what happened>`` and,
on the next line, what to do about it, on stderr, without a traceback (``--debug``
shows it). Exit status 2 for a usage error (a bad argument or option value), 1 for a
runtime error (the network, a file, the peer).

:func:`explain` turns an exception into a :class:`CliError`; ``cli.main`` is the one
place that calls it, around every subcommand.
"""

from __future__ import annotations

import errno
import sys

import web_transport as wt

USAGE = 2
RUNTIME = 1


class CliError(Exception):
    """A failure the command explains: ``what`` happened, ``next_step`` to take."""

    def __init__(self, what: str, next_step: str, status: int = RUNTIME) -> None:
        super().__init__(what)
        self.what = what
        self.next_step = next_step
        self.status = status


def report(error: CliError) -> int:
    """Print ``error`` as the command shows failures; return its exit status."""
    print(f"error: {error.what}", file=sys.stderr)
    print(error.next_step, file=sys.stderr, flush=True)
    return error.status


# errno of "address in use" on Windows (WSAEADDRINUSE), where errno.EADDRINUSE differs.
_WSAEADDRINUSE = 10048


def _os_error(e: OSError) -> CliError:
    # OSError(errno, text): the text alone (str() would add "[Errno N]").
    what = e.strerror if e.strerror else str(e)
    if e.errno in (errno.EADDRINUSE, _WSAEADDRINUSE) or "cannot bind" in what:
        step = "another program uses that UDP port: stop it, or choose another port with"
        return CliError(what, f"({step} --bind HOST:PORT; port 0 picks a free one)")
    if isinstance(e, FileNotFoundError) or e.errno == errno.ENOENT:
        return CliError(what, "(check the paths given to --cert and --key)")
    if isinstance(e, PermissionError):
        return CliError(what, "(check that the files are readable and the port is allowed)")
    return CliError(what, "(run again with --debug to see where it failed)")


def _value_error(e: ValueError) -> CliError:
    what = str(e)
    if what.startswith(("certificate", "private_key")):
        step = "--cert takes a PEM or DER certificate chain file, --key its private key"
    elif what.startswith("bind"):
        step = "--bind takes HOST:PORT, for example 127.0.0.1:4433 or [::]:4433"
    elif what.startswith("url"):
        step = "the URL is https://HOST:PORT/PATH: the url line serve printed"
    else:
        step = "check the arguments: web-transport COMMAND --help"
    return CliError(what, f"({step})", USAGE)


def _connect_error(e: wt.ConnectError) -> CliError:
    what = str(e)
    if isinstance(e, wt.SessionRejected):
        return CliError(what, "(the server answered but refused the session: check the path)")
    if "pin the hash" in what:
        step = "pass the 'certificate hash (hex)' line serve printed at its last start"
        return CliError(what, f"({step} as --cert-hash)")
    if "a self-signed server needs" in what:
        step = "pass --cert-hash with the 'certificate hash (hex)' line serve printed"
        return CliError(what, f"({step})")
    return CliError(what, "(check the URL, that the server runs, and that UDP reaches it)")


def explain(e: BaseException) -> CliError | None:
    """What the command says about ``e``; None for an exception it has no words for."""
    if isinstance(e, CliError):
        return e
    if isinstance(e, wt.ConnectError):
        return _connect_error(e)
    if isinstance(e, wt.SessionError):
        return CliError(f"{type(e).__name__}: {e}", "(the session ended: see the server's log)")
    if isinstance(e, wt.WebTransportError):
        return CliError(f"{type(e).__name__}: {e}", "(run again with --debug for the details)")
    if isinstance(e, OSError):
        return _os_error(e)
    if isinstance(e, ValueError):
        return _value_error(e)
    return None
