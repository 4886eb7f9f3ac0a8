"""Customers move from `surveys` to their own app. The tables stay as they are (`surveys_customer`,
`surveys_erasurerecord`, with their rows, indexes and the foreign keys that point at them): only Django's idea of
which app owns the models changes, so every operation here is state-only, and the content types follow the models
so that admin log entries and permissions keep pointing at them."""

import config.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


MODELS = ("customer", "erasurerecord")


def _move(apps, from_label, to_label):
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=to_label, model=model).exists():
            content_type.objects.filter(app_label=from_label, model=model).update(app_label=to_label)


def move_content_types(apps, schema_editor):
    _move(apps, "surveys", "customers")


def move_content_types_back(apps, schema_editor):
    _move(apps, "customers", "surveys")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The tables were created and last changed by these migrations.
        ("surveys", "0017_invitation_delivery_lease"),
    ]

    state_operations = [
        migrations.CreateModel(
            name='Customer',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=200, validators=[config.validators.validate_one_line], verbose_name='name')),
                ('email', models.EmailField(blank=True, db_index=True, max_length=254, verbose_name='email')),
                ('phone', models.CharField(blank=True, max_length=40, validators=[config.validators.validate_one_line], verbose_name='phone')),
                ('language', models.CharField(choices=[('vi', 'Vietnamese'), ('en', 'English')], default='vi', max_length=2, verbose_name='language')),
                ('segment', models.CharField(blank=True, db_index=True, max_length=100, verbose_name='segment')),
                ('customer_type', models.CharField(choices=[('direct', 'Direct customer'), ('indirect', 'Indirect customer')], default='direct', max_length=10, verbose_name='type')),
                ('external_id', models.CharField(blank=True, max_length=100, verbose_name='external ID')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created')),
                ('opted_out_at', models.DateTimeField(blank=True, null=True, verbose_name='opted out')),
                ('erased_at', models.DateTimeField(blank=True, null=True, verbose_name='erased')),
            ],
            options={
                'verbose_name': 'customer',
                'verbose_name_plural': 'customers',
                'db_table': 'surveys_customer',
                'ordering': ['name', 'id'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('external_id', ''), _negated=True), fields=('external_id',), name='customer_external_id_unique', violation_error_message='Another customer already has this external ID.')],
            },
        ),
        migrations.CreateModel(
            name='ErasureRecord',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('erased_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='erased')),
                ('reason', models.CharField(max_length=300, verbose_name='request')),
                ('customer', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='erasures', to='customers.customer')),
                ('erased_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='erased by')),
            ],
            options={
                'verbose_name': 'erasure record',
                'verbose_name_plural': 'erasure records',
                'db_table': 'surveys_erasurerecord',
                'ordering': ['-erased_at'],
                'constraints': [models.UniqueConstraint(fields=('customer',), name='erasure_record_once_per_customer')],
            },
        ),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=state_operations, database_operations=[]),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
