"""SIGTERM and SIGHUP, handled like Ctrl-C (SIGINT).

CI cancellation, `docker stop` and Kubernetes send SIGTERM; a closed terminal sends
SIGHUP. Each of the three raises `Interrupted` in the main thread, so that the same
`finally` blocks run: the state is left as last written (every create is recorded as soon
as it is answered) and the lock is released. `reconcile` adds the jobs whose create was
sent without an answer being recorded (`interrupted`); the command line prints `message`
and exits with `exit_status`: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP (128 + the
signal). `Interrupted` is a `BaseException` but not a `KeyboardInterrupt`: typer turns a
`KeyboardInterrupt` into a bare exit status 130, which would lose the signal and the
message.

A signal that arrives while the first one is being handled is ignored: the clean-up
goes on (a lock left behind by a harder kill lapses by itself).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterable, Iterator
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """The run was stopped by a signal."""

    def __init__(
        self, signum: int, *, unsettled: tuple[str, ...] = (), reconciling: bool = False
    ) -> None:
        super().__init__(signum)
        self.signum = signum
        # Jobs whose create was sent and whose outcome is not recorded.
        self.unsettled = unsettled
        # Stopped inside `reconcile`, under the state lock.
        self.reconciling = reconciling


def _signum(error: BaseException) -> int:
    return error.signum if isinstance(error, Interrupted) else signal.SIGINT


def exit_status(error: BaseException) -> int:
    """128 + the signal: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + _signum(error)


def message(error: BaseException) -> str:
    """What the command line says when `error` stopped it."""
    text = f"interrupted ({signal.Signals(_signum(error)).name})"
    if not isinstance(error, Interrupted) or not error.reconciling:
        return text
    text += ": every job submitted before is recorded in the state, and the state lock is released."
    if error.unsettled:
        names = ", ".join(error.unsettled)
        one = len(error.unsettled) == 1
        text += (
            f" The outcome of {names} is unknown: {'its' if one else 'their'} create was sent "
            "and no answer was recorded. The next reconcile adopts "
            f"{'it if it was' if one else 'each one that was'} created, or submits "
            f"{'it' if one else 'the others'}."
        )
    else:
        text += " Run reconcile again to submit the rest."
    return text


def interrupted(error: BaseException, *, unsettled: Iterable[str]) -> Interrupted:
    """`error`, as it stops a reconcile that left the jobs `unsettled` unknown."""
    return Interrupted(_signum(error), unsettled=tuple(sorted(unsettled)), reconciling=True)


def _raise(signum: int, frame: FrameType | None) -> None:
    # Once: the clean-up that this starts is not cut short by the next one.
    for handled in HANDLED:
        signal.signal(handled, signal.SIG_IGN)
    raise Interrupted(signum)


# What each signal does unless a process changed it: only those are taken over, so that a
# signal the process was started to ignore (`nohup`, a shell's background job) stays so.
_DEFAULTS = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
    signal.SIGHUP: signal.SIG_DFL,
}


@contextlib.contextmanager
def handled() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise `Interrupted` for the block (in the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in HANDLED:
        if signal.getsignal(signum) is _DEFAULTS[signum]:
            previous[signum] = signal.signal(signum, _raise)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
