from django.db import migrations
from django.db.models import Max


def start_at_now(apps, schema_editor):
    # Answers given before the closed loop existed are history, not new complaints: start the sweep after them.
    Response = apps.get_model("surveys", "Response")
    Settings = apps.get_model("feedback", "ComplaintSettings")
    settings, _ = Settings.objects.get_or_create(pk=1)
    settings.loop_watermark = Response.objects.aggregate(m=Max("id"))["m"] or 0
    settings.save(update_fields=["loop_watermark"])


class Migration(migrations.Migration):
    dependencies = [("feedback", "0003_loop_watermark"), ("surveys", "0003_closed_loop_thresholds")]
    operations = [migrations.RunPython(start_at_now, migrations.RunPython.noop)]
