"""Signals other apps listen to. `surveys` imports no other app: feedback and reports subscribe to these."""

from django.dispatch import Signal

# Sent once per stored response, after its transaction commits. Arguments: response (a Response, its answers saved),
# survey (its Survey), scores (a list of (question kind, score) for its scale answers), comments (its free texts).
response_submitted = Signal()
