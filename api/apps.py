from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from api import schema  # noqa: F401  (the schema extension for our key authentication)
        from api.models import ApiKey
        from audit.trail import register

        # A key is a door into the quality records: who made it, its scope and its revocation are on the trail.
        # Never its hash: the trail is read by auditors, and a hash of a high-entropy key is still its fingerprint.
        register(ApiKey, fields=["name", "prefix", "scope", "created_by", "revoked_at", "revoked_by"])
