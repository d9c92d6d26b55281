"""The history database's tables, and the migrations that bring any older file up to date.

The schema version is SQLite's ``user_version``: 0 for a new file, then the number of
migrations applied. Migrations only ever add: a newer voiceguide reads an older file after
migrating it, and an older voiceguide leaves a newer file alone rather than guess.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

Migration = tuple[str, ...]
"""The statements that take the schema from one version to the next."""

MIGRATIONS: tuple[Migration, ...] = (
    (
        """
        CREATE TABLE sessions (
            id            TEXT PRIMARY KEY,
            routine       TEXT NOT NULL,
            title         TEXT NOT NULL,
            script_hash   TEXT NOT NULL,
            cautions_hash TEXT NOT NULL,
            started_at    TEXT NOT NULL,
            updated_at    TEXT NOT NULL,
            ended_at      TEXT,
            outcome       TEXT NOT NULL CHECK (outcome IN
                              ('unfinished', 'completed', 'stopped', 'interrupted', 'failed')),
            from_ms       INTEGER NOT NULL,
            reached_ms    INTEGER NOT NULL,
            total_ms      INTEGER NOT NULL,
            intro_ms      INTEGER NOT NULL,
            step          INTEGER NOT NULL,
            steps         INTEGER NOT NULL,
            step_title    TEXT NOT NULL,
            engine        TEXT NOT NULL,
            voice         TEXT,
            rate_wpm      INTEGER NOT NULL,
            pace          REAL NOT NULL,
            repeat        INTEGER NOT NULL,
            intro         TEXT NOT NULL CHECK (intro IN ('full', 'short', 'none')),
            detail        TEXT NOT NULL CHECK (detail IN ('full', 'brief')),
            pid           INTEGER NOT NULL
        )
        """,
        "CREATE INDEX sessions_by_routine ON sessions (routine, started_at)",
        "CREATE INDEX sessions_by_start ON sessions (started_at)",
    ),
)
"""Version N is reached by applying ``MIGRATIONS[N - 1]``; append, never edit."""

SCHEMA_VERSION = len(MIGRATIONS)


class NewerSchemaError(Exception):
    """The file was written by a newer voiceguide, with a schema this one does not know."""

    def __init__(self, found: int, known: int) -> None:
        self.found = found
        self.known = known
        super().__init__(f"schema version {found}; this voiceguide knows up to {known}")


def version_of(connection: sqlite3.Connection) -> int:
    """The schema version of the open database."""
    row = connection.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(connection: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Apply the migrations the database lacks, in one transaction; return the new version.

    ``connection`` must be in autocommit mode (``isolation_level=None``). Two processes
    opening a new file at once are safe: the second finds the version already raised.
    """
    known = len(migrations)
    found = version_of(connection)
    if found == known:  # the usual case: no write lock needed
        return known
    if found > known:
        raise NewerSchemaError(found, known)
    connection.execute("BEGIN IMMEDIATE")
    try:
        found = version_of(connection)
        if found > known:
            raise NewerSchemaError(found, known)
        for statements in migrations[found:]:
            for statement in statements:
                connection.execute(statement)
        connection.execute(f"PRAGMA user_version = {known:d}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return known
