from django.db import migrations


def set_fillfactor(apps, schema_editor):
    # Invitations are written in bulk and later updated (sent, answered). Leaving room on each page lets
    # PostgreSQL update a row in place (a HOT update) without touching its five indexes: the submit path's update.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE surveys_invitation SET (fillfactor = 70)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE surveys_invitation RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]
    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
