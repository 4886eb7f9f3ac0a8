"""Customers moved to their own app (customers/migrations/0001): the foreign keys now name `customers.Customer`.
The database is unchanged (same table), so the operations are state-only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        # Every foreign key to the customer is re-pointed before the old model leaves the state.
        ('feedback', '0013_customer_moved_to_customers_app'),
        ('customers', '0001_customers_move'),
        ('surveys', '0017_invitation_delivery_lease'),
    ]

    state_operations = [
        migrations.RemoveField(
            model_name='erasurerecord',
            name='customer',
        ),
        migrations.AlterField(
            model_name='contactclaim',
            name='customer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='customers.customer'),
        ),
        migrations.AlterField(
            model_name='invitation',
            name='customer',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='invitations', to='customers.customer'),
        ),
        migrations.AlterField(
            model_name='response',
            name='customer',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='responses', to='customers.customer'),
        ),
        migrations.RemoveField(
            model_name='erasurerecord',
            name='erased_by',
        ),
        migrations.DeleteModel(
            name='Customer',
        ),
        migrations.DeleteModel(
            name='ErasureRecord',
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[])]
