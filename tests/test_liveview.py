"""What a sighted helper sees: one line per cue, or a block redrawn in place."""

from __future__ import annotations

import io

from tests.play_helpers import ScriptedKeys, playback, timeline_of
from voiceguide.play.keys import Command
from voiceguide.play.liveview import LineView, TerminalView
from voiceguide.play.navigation import steps_of
from voiceguide.play.playback import Status


def test_line_view_prints_one_line_per_cue_as_it_starts() -> None:
    pb, device = playback("say-pause", intro=True)
    out = io.StringIO()
    timeline = pb.source.prefix()
    pb.view = LineView(out, timeline, steps_of(timeline))
    keys = ScriptedKeys(pb, device, [(13_500, Command.PAUSE), (13_200, Command.PAUSE)])
    pb.run(keys)
    assert out.getvalue().splitlines() == [
        "-- Introduction: Introduction",
        "0:00.000  intro        [start sound]",
        "0:02.000  intro        Say and pause.",
        "0:03.300  intro        Get comfortable, sitting on a chair.",
        "0:05.700  intro        This session takes less than a minute.",
        "-- Step 1: Say and pause",
        "0:13.200  instruction  Sit comfortably.",
        "0:13.200  (control)    Paused.",
        "0:13.200  [paused]",
        "0:13.200  (control)    Resuming: step one.",
        "0:13.200  instruction  Sit comfortably.",  # cut by the pause: said again
        "0:16.600  sound        [tick sound]",
        "-- Step 2: Say and pause",
        "0:17.000  instruction  Done.",
        "0:17.850  closing      [end sound]",
        "0:20.350  [end]",
    ]


def test_terminal_view_redraws_one_block_in_place() -> None:
    timeline = timeline_of("press-reps")
    out = io.StringIO()
    now = [0.0]
    view = TerminalView(out, timeline, steps_of(timeline), width=lambda: 200, clock=lambda: now[0])
    status = Status(position=25_000, mode="playing", paused=False, volume_pct=90)
    assert view.lines(status) == [
        "Press with reps  |  Step 1 of 1: Press with reps",
        'Playing   "Breathe out."',
        "hold  press 1 of 3  0:13 left in this hold",
        "[#######-----------------------] 0:25 / 1:38   1:13 left   volume 90%",
        "Space pause | n/p next/previous | r repeat | w where am I | +/- volume | q quit",
    ]
    view.update(status)
    now[0] += 1
    view.update(Status(position=26_000, mode="paused", paused=True, volume_pct=90))
    view.close()
    text = out.getvalue()
    assert text.startswith("\x1b[?25l\x1b[2KPress with reps")
    assert text.count("\r\x1b[4A") == 1  # the second draw went back up over the first
    assert "Paused" in text
    assert text.endswith("\n\x1b[?25h")
    saying = view.lines(Status(25_000, "paused", True, 90, saying="Paused."))
    assert saying[1] == 'Saying: "Paused."'


def test_ctrl_z_leaves_the_cursor_shown_and_draws_a_new_block_after_fg() -> None:
    pb, device = playback()
    out = io.StringIO()
    timeline = pb.source.prefix()
    now = [0.0]
    pb.view = TerminalView(
        out, timeline, steps_of(timeline), width=lambda: 200, clock=lambda: now[0]
    )
    on_suspend: list[str] = []

    class Keys(ScriptedKeys):
        def suspend(self) -> None:
            super().suspend()
            on_suspend.append(out.getvalue())
            out.write("\n[1]+  Stopped    voiceguide play press-reps\n$ fg\n")  # the shell

    keys = Keys(pb, device, [(20_000, Command.SUSPEND), (0, Command.PAUSE), (0, Command.QUIT)])
    pb.run(keys)
    (before,) = on_suspend
    assert before.endswith("\n\x1b[?25h")  # below the block, the cursor shown
    assert "Paused" in before.rsplit("\x1b[2KPress with reps", 1)[1]  # as it was left
    after = out.getvalue()[len(before) :].split("$ fg\n", 1)[1]
    assert after.startswith("\x1b[?25l\x1b[2KPress with reps")  # a new block, not over the shell
    assert after.count("\x1b[4A") == after.count("\r\x1b[4A")
