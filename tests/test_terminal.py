"""Single keys from a real pseudo-terminal, and the terminal put back on every way out."""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import termios
import textwrap

from voiceguide.play.keys import Command
from voiceguide.play.terminal import TerminalKeys


def test_terminal_keys_restore_the_terminal_on_every_way_out() -> None:
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        for way_out in (None, RuntimeError, KeyboardInterrupt):
            try:
                with TerminalKeys(slave) as keys:
                    attrs = termios.tcgetattr(slave)
                    assert not attrs[3] & (termios.ICANON | termios.ECHO)
                    assert attrs[3] & termios.ISIG  # Ctrl-C still interrupts
                    os.write(master, b"n \x1b[D")
                    assert keys.read(1.0) == [Command.NEXT, Command.PAUSE, Command.PREVIOUS]
                    assert keys.read(0.01) == []
                    if way_out is not None:
                        raise way_out
            except (RuntimeError, KeyboardInterrupt):
                pass
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_terminal_is_restored_on_sigterm() -> None:
    master, slave = pty.openpty()
    script = textwrap.dedent(
        """
        import sys
        from voiceguide.play.terminal import TerminalKeys, exit_on_signals
        with exit_on_signals(), TerminalKeys(0) as keys:
            print("ready", flush=True)
            while True:
                keys.read(0.05)
        """
    )
    try:
        before = termios.tcgetattr(slave)
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=slave, stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        assert not termios.tcgetattr(slave)[3] & termios.ECHO
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 128 + signal.SIGTERM
        process.stdout.close()
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)
