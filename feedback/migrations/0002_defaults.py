from django.db import migrations

# Default time limits in hours per severity: acknowledge, respond, close. Quality managers change them in the app.
LIMITS = {"low": (48, 240, 720), "medium": (24, 120, 480), "high": (8, 48, 240), "critical": (2, 24, 120)}
CATEGORIES = [
    ("Giao hàng", "Delivery"),
    ("Hóa đơn và thanh toán", "Billing and payment"),
    ("Chất lượng sản phẩm", "Product quality"),
    ("Thái độ phục vụ", "Staff attitude"),
    ("Hỗ trợ kỹ thuật", "Technical support"),
    ("Khác", "Other"),
]


def create(apps, schema_editor):
    TimeLimit = apps.get_model("feedback", "TimeLimit")
    Category = apps.get_model("feedback", "Category")
    for severity, (ack, respond, close) in LIMITS.items():
        TimeLimit.objects.get_or_create(
            severity=severity, defaults={"acknowledge_hours": ack, "respond_hours": respond, "close_hours": close}
        )
    if not Category.objects.exists():
        Category.objects.bulk_create(Category(name_vi=vi, name_en=en) for vi, en in CATEGORIES)


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
