"""Polling centers deleted with the voters registered there: the register never holds a
voter who votes nowhere (the voters list counting them while a run finds none to print)."""

from django.db import connection, transaction
from django.db.models import Count

from . import runs
from .models import PollingCenter, StationAssignment, Voter, VoterRegistration


def voters_by_center(center_pks):
    """{center pk: registered voters} for ``center_pks``: one grouped count."""
    rows = (
        VoterRegistration.objects.filter(center_id__in=center_pks)
        .values_list("center_id")
        .annotate(voters=Count("*"))
    )
    return dict(rows)


def delete_centers(center_pks):
    """Delete the centers of ``center_pks`` and their voters, with those voters' registrations
    and station assignments; return how many (centers, voters).

    One transaction, a statement per table: Django's own cascade would load every voter to
    delete it by primary key, a thousand at a time. Refused (runs.RunRefused) while a run is
    active: it may be printing those voters.
    """
    center_pks = list(center_pks)
    with transaction.atomic():
        runs.refuse_while_a_run_is_active(keep_new_runs_out=True)
        registered = VoterRegistration.objects.filter(center_id__in=center_pks).values("voter_id")
        StationAssignment.objects.filter(voter_id__in=registered).delete()
        StationAssignment.objects.filter(center_id__in=center_pks).delete()
        # The voters before their registrations, which name them: the foreign keys here are
        # checked at commit, when both are gone.
        quote = connection.ops.quote_name
        sql, params = registered.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {quote(Voter._meta.db_table)} WHERE {quote(Voter._meta.pk.column)} IN ({sql})",
                params,
            )
            deleted_voters = cursor.rowcount
        VoterRegistration.objects.filter(center_id__in=center_pks).delete()
        # Runs keep their record: Django sets their center to null.
        _, deleted = PollingCenter.objects.filter(pk__in=center_pks).delete()
    return deleted.get(PollingCenter._meta.label, 0), deleted_voters
