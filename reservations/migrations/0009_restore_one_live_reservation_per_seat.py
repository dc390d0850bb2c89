"""Put back the partial unique index reservation_one_live_per_seat (one PENDING or CONFIRMED reservation
per seat: the database's last line of defence against selling a seat twice).

Migration 0003 altered the seat foreign key to db_index=False; on PostgreSQL, Django's schema editor then
dropped every plain-looking index on seat_id, this partial unique one included, while the migration state
still lists the constraint (so makemigrations saw nothing to do). tests/reservations/test_constraints.py
checks that the database refuses a second live reservation of a seat. Where the index survived (SQLite
rebuilds the table from the model state), IF NOT EXISTS leaves it as it is."""

from django.db import migrations

CREATE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS reservation_one_live_per_seat ON reservations_reservation (seat_id) "
    "WHERE status IN ('PENDING', 'CONFIRMED')"
)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0008_operators_see_orders")]

    # Forwards only: the constraint belongs to the model since 0001, so going back must not drop it.
    operations = [migrations.RunSQL(CREATE, reverse_sql=migrations.RunSQL.noop)]
