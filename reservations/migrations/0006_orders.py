"""Orders: several seats of one schedule held together and paid once. Every existing reservation
becomes an order of one seat (the order takes the reservation's id, status and deadline)."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


def one_order_per_reservation(apps, schema_editor):
    Order = apps.get_model("reservations", "Order")
    Reservation = apps.get_model("reservations", "Reservation")
    for reservation in Reservation.objects.filter(order__isnull=True).iterator(chunk_size=1000):
        Order.objects.create(
            id=reservation.id,
            user_id=reservation.user_id,
            concert_id=reservation.concert_id,
            schedule_id=reservation.schedule_id,
            status=reservation.status,
            expires_at=reservation.expires_at,
            created_at=reservation.created_at,
            confirmed_at=reservation.confirmed_at,
            cancelled_at=reservation.cancelled_at,
        )
        Reservation.objects.filter(pk=reservation.pk).update(order_id=reservation.id)


class Migration(migrations.Migration):

    dependencies = [
        ('concerts', '0005_sales_dashboard_to_backoffice'),
        ('reservations', '0005_hold_seat_lapsed_update_planned_per_call'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Order',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('status', models.CharField(choices=[('PENDING', 'Pending'), ('CONFIRMED', 'Confirmed'), ('CANCELLED', 'Cancelled'), ('EXPIRED', 'Expired')], default='PENDING', max_length=10)),
                ('expires_at', models.DateTimeField(help_text='A pending order (every seat of it) lapses at this moment.')),
                ('created_at', models.DateTimeField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('confirmed_at', models.DateTimeField(blank=True, null=True)),
                ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                ('concert', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='concerts.concert')),
                ('schedule', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='concerts.schedule')),
                ('user', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='orders', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-created_at'],
            },
        ),
        migrations.AddField(
            model_name='reservation',
            name='order',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reservations', to='reservations.order'),
        ),
        migrations.RunPython(one_order_per_reservation, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='reservation',
            name='order',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reservations', to='reservations.order'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['user', '-created_at'], name='reservation_user_id_b2ca62_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['status', 'expires_at'], name='reservation_status_a9f7e2_idx'),
        ),
        migrations.AddIndex(
            model_name='order',
            index=models.Index(fields=['concert', 'created_at'], name='reservation_concert_2435a2_idx'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('expires_at__gt', models.F('created_at'))), name='order_expires_after_creation'),
        ),
        migrations.AddConstraint(
            model_name='order',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED'])), name='order_status_known'),
        ),
    ]
