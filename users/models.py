from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A fan or an operator. Logs in with email; `name` is what a ticket is printed for."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email


class LoginLock(models.Model):
    """A lock the login lockout took (users/lockout.py), recorded so operators can see it and clear it in
    admin. The lock itself lives in the cache with the failure counts; this row is its record: who was
    locked, until when, and who cleared it. Unknown emails lock like known ones, so `email` is the address
    as typed (lower-cased), not a link to an account."""

    email = models.CharField(max_length=254)
    locked_at = models.DateTimeField()
    locked_until = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-locked_at"]
        indexes = [
            models.Index(fields=["email", "-locked_at"], name="loginlock_email_idx"),
            models.Index(fields=["locked_until"], name="loginlock_until_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.email} until {self.locked_until:%Y-%m-%d %H:%M:%S}"
