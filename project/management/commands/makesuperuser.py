from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.crypto import get_random_string

# Letters and digits that cannot be mistaken for one another: no 0/O/o, 1/l/I.
UNAMBIGUOUS = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
PASSWORD_LENGTH = 16  # about 93 bits


def framed(lines):
    """``lines`` in a box of ``+``, ``-`` and ``|``: it stands out among start-up logs."""
    width = max(map(len, lines)) + 4
    rule = f"+{'-' * width}+"
    return "\n".join([rule, *(f"|  {line.ljust(width - 2)}|" for line in lines), rule])


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
        password = get_random_string(PASSWORD_LENGTH, UNAMBIGUOUS)
        User.objects.create_superuser(username=username, email=email, password=password)
        box = framed(
            [
                f"Created admin account '{username}'. Its password, shown only this once:",
                "",
                f"    {password}",
                "",
                f"Lost it? manage.py changepassword {username}",
            ]
        )
        self.stdout.write(self.style.SUCCESS(f"\n{box}\n"))
