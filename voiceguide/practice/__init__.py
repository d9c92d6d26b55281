"""The practice history: what was played, when and how far, and what it lets a session decide.

- :mod:`.records` — a session as a row; time stamps.
- :mod:`.schema` — the tables and their migrations.
- :mod:`.store` — the SQLite file: open (moving a damaged one aside), write, read, forget.
- :mod:`.recorder` — recording a session as it plays, from a thread of its own.
- :mod:`.history` — reading it at the start of a session, never in the way.
- :mod:`.identity` — which version of a routine (script and cautions hashes).
- :mod:`.decide` — ``auto`` for the introduction and the instructions.
- :mod:`.summary` — this week, the last 30 days, per routine, streaks.

Above the script model and the ground floor; below the session layer and the player, which
call it. Nothing here imports the compiler, the sound or the player.
"""
