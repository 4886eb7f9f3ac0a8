"""Customers moved to their own app (customers/migrations/0001): the foreign keys now name `customers.Customer`.
The database is unchanged (same table), so the operations are state-only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0001_customers_move'),
        ('feedback', '0012_recourse'),
    ]

    state_operations = [
        migrations.AlterField(
            model_name='complaintcase',
            name='customer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='cases', to='customers.customer', verbose_name='customer'),
        ),
        migrations.AlterField(
            model_name='historicalcomplaintcase',
            name='customer',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='customers.customer', verbose_name='customer'),
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])]
