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
        register(
            ApiKey, fields=["name", "prefix", "scope", "created_by", "revoked_at", "revoked_by"], made_on_trail=True
        )
        self._forget_checked_keys_on_change(ApiKey)

    @staticmethod
    def _forget_checked_keys_on_change(key_model: type) -> None:
        """Whatever could change whether a key opens the door (api/keys.py keeps the keys it checked lately): the
        key itself, its creator's account, groups and permissions, or a group (roles are groups)."""
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from api.keys import apikeys_changed

        user = get_user_model()
        for model in (key_model, user, Group):
            post_save.connect(apikeys_changed, sender=model, dispatch_uid=f"api-keys-{model.__name__}-saved")
            post_delete.connect(apikeys_changed, sender=model, dispatch_uid=f"api-keys-{model.__name__}-deleted")
        for through in (user.groups.through, user.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(apikeys_changed, sender=through, dispatch_uid=f"api-keys-{through.__name__}")
