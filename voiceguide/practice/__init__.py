"""The practice history: what was played, when and how far, and what it lets a session decide.

- :mod:`.records` — a session as a row; time stamps.
- :mod:`.schema` — the tables and their migrations.
- :mod:`.store` — the SQLite file: open (moving a damaged one aside), write, read, forget.
- :mod:`.recorder` — recording a session as it plays, from a thread of its own.
- :mod:`.history` — reading it at the start of a session, never in the way.
- :mod:`.identity` — which version of a routine (script and cautions hashes).
- :mod:`.decide` — ``auto`` for the introduction and the instructions.
- :mod:`.summary` — this week, the last 30 days, per routine, streaks.
- :mod:`.report` — what ``voiceguide history`` shows and does.

Above the script model and the ground floor; below the session layer and the player, which
call it. Nothing here imports the compiler, the sound or the player.

**A player records a session** (:func:`voiceguide.app.playing.play` does, through
:mod:`voiceguide.app.recording`) with one :class:`~.recorder.Recorder` (``enabled=False`` for
``--no-history`` or ``history: false``): ``begin(plan)`` once the first sound is handed to
the device (it starts the writer thread; ``plan`` may be a function making it, so hashing
the routine waits too), ``progress(ms)`` on every tick (it writes only at a step change or
once a minute), ``finish(outcome, ms)`` at the end, ``close()`` on every way out. None of
them raises or waits on the disk (``finish`` waits at most 1.5 s for the last write);
trouble comes once, through ``warn``.

**A session decides** ``auto`` before compiling: ``identity = identify(routine)``,
``rows = rows_for(identity.name, now)``, then ``decide_intro(rows, identity, now)`` and
``decide_detail(rows, identity, now)``; the plan's ``intro`` and ``detail`` record the
choices made.
"""
