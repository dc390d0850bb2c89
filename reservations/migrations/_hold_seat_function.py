"""Shared by the migrations of reservations_hold_seat(): 0002 installs it, each later one swaps one
statement of the previous version's source and installs the result, its reverse the previous version.
(Django's migration loader skips modules whose name starts with "_".)"""

from django.db import migrations


def edited(previous_sql: str, old: str, new: str, *, migration: str) -> str:
    """`previous_sql` with `old` replaced by `new`; refuses when `old` is not there to replace."""
    if old not in previous_sql:
        raise RuntimeError(f"reservations {migration}: the statement it replaces is not in the previous function")
    return previous_sql.replace(old, new)


def on_postgresql(sql: str, *, reverse_sql: str) -> migrations.RunPython:
    """Runs `sql` on PostgreSQL (the only database with the function); reversed, `reverse_sql`."""

    def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(reverse_sql)

    return migrations.RunPython(forwards, backwards)
