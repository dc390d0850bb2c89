from django.contrib.admin.apps import AdminConfig
from django_otp.plugins.otp_static.apps import DefaultConfig as StaticConfig
from django_otp.plugins.otp_totp.apps import DefaultConfig as TotpConfig


class BackOfficeAdminConfig(AdminConfig):
    """django.contrib.admin with the back office's site (users/admin_site.py: login lockout, second
    factor) as `admin.site`, so every app's admin.py registers on it unchanged. Its own module: users.apps
    must hold only the users app's config. The two django-otp configs below only rename their apps."""

    default_site = "users.admin_site.BackOfficeSite"


class AuthenticatorAppsConfig(TotpConfig):
    """django-otp's TOTP devices, named for operators in the admin index."""

    verbose_name = "Two-factor: authenticator apps"


class RecoveryCodesConfig(StaticConfig):
    """django-otp's static devices (the recovery codes), named for operators in the admin index."""

    verbose_name = "Two-factor: recovery codes"
