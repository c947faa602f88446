"""The ground's one root error, and the exit status each kind of failure gets.

Every failure a user can cause or meet (a wrong option, a missing device, a refused command)
is a :class:`LanderError` whose message is one line that says what to do; the ``lander``
command prints it after the subcommand's name and exits with the kind's status, never with
a traceback. Library code raises the most specific kind; only the command line prints.

==========  ===========================================================================
exit code   kind
==========  ===========================================================================
0           done
1           :class:`OperationFailed`: it ran and did not succeed (a command refused, a
            flash that failed, a capture with no packet)
2           :class:`UsageError`: the command line, a named file or a key is wrong
3           :class:`LinkUnavailable`: the link cannot be opened, is held by another
            process, or went away
130         interrupted (Ctrl-C)
==========  ===========================================================================
"""

from __future__ import annotations

__all__ = ["LanderError", "UsageError", "LinkUnavailable", "OperationFailed"]


class LanderError(Exception):
    """A failure reported to the user in one line; ``exit_code`` says which kind."""

    exit_code = 1


class OperationFailed(LanderError):
    """The operation ran and failed: a command refused or timed out, a flash that failed."""

    exit_code = 1


class UsageError(LanderError):
    """The command line, a file it names or a key is wrong; the message says how to fix it."""

    exit_code = 2


class LinkUnavailable(LanderError):
    """A link cannot be opened, is owned by another process, or was lost."""

    exit_code = 3
