from django.db import migrations
from django.db.models import F


def backfill(apps, schema_editor):
    Invitation = apps.get_model("surveys", "Invitation")
    Invitation.objects.filter(sent_at__isnull=False).update(status="sent", last_sent_at=F("sent_at"))
    Invitation.objects.filter(answered_at__isnull=False).update(status="answered")


class Migration(migrations.Migration):
    dependencies = [("surveys", "0005_campaigns_and_invitation_states")]
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
