"""A payment pays an order (one per order); it counts what was refunded so far. Existing payments pay
their reservation's order of one seat; a REFUNDED one had refunded everything."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def order_of_each_payment(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Reservation = apps.get_model("reservations", "Reservation")
    orders = dict(Reservation.objects.values_list("id", "order_id"))
    for payment in Payment.objects.filter(order__isnull=True).iterator(chunk_size=1000):
        payment.order_id = orders[payment.reservation_id]
        if payment.status == "REFUNDED":
            payment.refunded_amount = payment.amount
        payment.save(update_fields=["order", "refunded_amount"])


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0002_initial'),
        ('reservations', '0006_orders'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='payment',
            name='order',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payment', to='reservations.order'),
        ),
        migrations.AddField(
            model_name='payment',
            name='refunded_amount',
            field=models.PositiveIntegerField(default=0, help_text='Points given back so far (a seat cancelled alone refunds its price).'),
        ),
        migrations.AlterField(
            model_name='payment',
            name='reservation',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='payment', to='reservations.reservation'),
        ),
        migrations.RunPython(order_of_each_payment, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='payment',
            name='order',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='payment', to='reservations.order'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('refunded_amount__lte', models.F('amount'))), name='payment_refund_within_amount'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('refunded_amount', models.F('amount')), ('status', 'REFUNDED')), models.Q(('status', 'COMPLETED'), ('refunded_amount__lt', models.F('amount'))), models.Q(('amount', 0), ('status', 'COMPLETED')), _connector='OR'), name='payment_refunded_iff_all_back'),
        ),
    ]
