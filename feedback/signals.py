"""Signals apps above feedback listen to (webhooks); feedback imports none of them."""

from django.dispatch import Signal

# Sent inside the cases' transaction when cases are opened (from_status "") or change status, one case or several
# together (the closed loop's sweep, a batch of acknowledgements). Argument: changes, a list of (case, from_status,
# to_status, event_id), event_id being the id of the change's timeline line. A receiver writing rows writes them in
# the same transaction, so they exist exactly when the change does.
case_statuses_changed = Signal()
