"""Signals other apps listen to. `surveys` imports no other app: feedback and reports subscribe to these."""

from django.dispatch import Signal

# Sent once per stored response, after its transaction commits. Arguments: response (a Response, with answers saved).
response_submitted = Signal()
