from django.contrib.admin.apps import AdminConfig


class BackOfficeAdminConfig(AdminConfig):
    """django.contrib.admin with the back office's site (users/admin_site.py: login lockout, second
    factor) as `admin.site`, so every app's admin.py registers on it unchanged. Its own module: users.apps
    must hold only the users app's config."""

    default_site = "users.admin_site.BackOfficeSite"
