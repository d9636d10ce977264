"""What the commands that replace all voter data share: they ask first, as createsuperuser does."""

from django.core.management.base import CommandError
from django.template.defaultfilters import pluralize

from voterroll.models import PollingCenter, Voter


def confirm_replacing(command, stdin, replacement):
    """Ask on a terminal before existing voters are replaced (``replacement`` says by what:
    "creates 30 new voters"); refuse without one. For the ``command`` asking, which takes
    --yes to skip the question and a stand-in ``stdin`` in tests (its stealth option)."""
    existing = Voter.objects.count()
    if not existing:
        return
    centers = PollingCenter.objects.count()
    what = f"{existing:,} voter{pluralize(existing)} in {centers:,} polling center{pluralize(centers)}"
    if not stdin.isatty():
        raise CommandError(
            f"{what} exist and would all be replaced; nothing changed. "
            "Run it again with --yes to replace them."
        )
    command.stdout.write(
        f"This deletes all {what}, their stations and registrations, and {replacement}.\n"
        "Type 'yes' to replace them: ",
        ending="",
    )
    command.stdout.flush()
    try:
        answer = stdin.readline().strip().lower()
    except KeyboardInterrupt:
        raise CommandError(f"Interrupted: the {what} are as they were.", returncode=130) from None
    if answer != "yes":
        raise CommandError(f"Not replaced: the {what} are as they were.")
