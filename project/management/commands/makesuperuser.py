import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Create an admin account if there is none, and print its generated password once."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--email", default="admin@example.com")

    def handle(self, *args, username, email, **options):
        User = get_user_model()
        try:  # as the admin's user form would: not blank, only letters, digits and @.+-_
            User._meta.get_field(User.USERNAME_FIELD).clean(username, None)
        except ValidationError as invalid:
            raise CommandError(f"--username {username!r}: {' '.join(invalid.messages)}") from None
        admins = list(User.objects.filter(is_superuser=True).values_list("username", flat=True))
        if admins:
            self.stdout.write(f"An admin account exists ({', '.join(admins)}); nothing changed.")
            return
        if User.objects.filter(username=username).exists():
            raise CommandError(
                f"A user named {username!r} exists but is not a superuser; nothing changed. "
                "Pick another name with --username, or make that user a superuser."
            )
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"Created admin account '{username}'."))
        self.stdout.write(f"Password (shown only this once): {password}")
