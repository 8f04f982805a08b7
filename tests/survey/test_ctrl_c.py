"""Ctrl-C during a batch: the first press asks the loop to stop (a flag it checks), a second press
interrupts at once, and whatever handler was there before is put back."""

import os
import signal
import time

import pytest

from lensframe.survey.executor import _ctrl_c_flag


def _press_ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.05)  # the handler runs in the main thread at its next bytecode


def test_first_press_sets_the_flag_and_the_second_interrupts():
    before = signal.getsignal(signal.SIGINT)
    with _ctrl_c_flag() as flag:
        assert not flag.is_set()
        _press_ctrl_c()
        assert flag.is_set()
        with pytest.raises(KeyboardInterrupt):
            _press_ctrl_c()
    assert signal.getsignal(signal.SIGINT) is before


def test_a_handler_left_by_other_code_does_not_swallow_the_press():
    swallowed = []
    before = signal.signal(signal.SIGINT, lambda *a: swallowed.append(a))
    try:
        with _ctrl_c_flag() as flag:
            _press_ctrl_c()
            assert flag.is_set() and not swallowed
        _press_ctrl_c()  # the other code's handler is back
        assert len(swallowed) == 1
    finally:
        signal.signal(signal.SIGINT, before)
