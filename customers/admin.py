from django.contrib import admin

from audit.admin import RecordAdmin
from customers.models import Customer

# Customers are quality records: the admin reads them; changes go through customers/services.py (the staff pages),
# which keeps the rules and writes the audit trail. Customers leave only through erasure, never by a delete.


@admin.register(Customer)
class CustomerAdmin(RecordAdmin):
    list_display = ["__str__", "language", "segment", "customer_type", "external_id", "opted_out_at", "erased_at"]
    list_filter = ["language", "customer_type", "segment"]
    search_fields = ["name", "email", "external_id"]
