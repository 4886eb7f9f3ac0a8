"""Signals apps above feedback listen to (webhooks); feedback imports none of them."""

from django.dispatch import Signal

# Sent inside the case's transaction when a case is opened (from_status "") or changes status. Arguments: case (a
# ComplaintCase), from_status, to_status, event_id (the id of its timeline line). A receiver writing rows writes
# them in the same transaction, so they exist exactly when the change does.
case_status_changed = Signal()

# Sent instead, once, when several cases are opened together (the closed loop's sweep). Arguments: cases, a list of
# (case, event_id) pairs; each is a case opened as case_status_changed with from_status "" would tell.
cases_opened = Signal()
