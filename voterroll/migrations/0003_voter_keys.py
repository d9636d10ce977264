import django.db.models.deletion
from django.db import migrations, models

COPY = "INSERT INTO voterroll_{to} (voter_id, {columns}) SELECT voter_id, {columns} FROM voterroll_{source}"


def copy(source, to, columns):
    """Copy rows from one table to the other, and back when the migration is reversed."""
    return migrations.RunSQL(
        COPY.format(source=source, to=to, columns=columns),
        COPY.format(source=to, to=source, columns=columns),
    )


class Migration(migrations.Migration):
    """The voter becomes the key of its registration and of its station assignment.

    Each table is made again with its rows copied over: a primary key cannot be moved from one
    column to another in place on both SQLite (whose table rebuild looks for the id it has just
    dropped) and PostgreSQL (which refuses a second primary key in the meantime).
    """

    dependencies = [
        ("voterroll", "0002_options_and_timeline"),
    ]

    operations = [
        migrations.CreateModel(
            name="VoterRegistrationByVoter",
            fields=[
                (
                    "voter",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="voterroll.voter",
                    ),
                ),
                (
                    "center",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="voterroll.pollingcenter",
                    ),
                ),
            ],
        ),
        copy("voterregistration", "voterregistrationbyvoter", "center_id"),
        migrations.DeleteModel(name="VoterRegistration"),
        migrations.RenameModel(old_name="VoterRegistrationByVoter", new_name="VoterRegistration"),
        migrations.AlterField(
            model_name="voterregistration",
            name="voter",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="registration",
                serialize=False,
                to="voterroll.voter",
            ),
        ),
        migrations.AlterField(
            model_name="voterregistration",
            name="center",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="registrations",
                to="voterroll.pollingcenter",
            ),
        ),
        migrations.CreateModel(
            name="StationAssignmentByVoter",
            fields=[
                (
                    "voter",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="voterroll.voter",
                    ),
                ),
                (
                    "center",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="voterroll.pollingcenter",
                    ),
                ),
                ("station", models.PositiveIntegerField()),
            ],
        ),
        copy("stationassignment", "stationassignmentbyvoter", "center_id, station"),
        migrations.DeleteModel(name="StationAssignment"),
        migrations.RenameModel(old_name="StationAssignmentByVoter", new_name="StationAssignment"),
        migrations.AlterField(
            model_name="stationassignment",
            name="voter",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                primary_key=True,
                related_name="station",
                serialize=False,
                to="voterroll.voter",
            ),
        ),
        migrations.AlterField(
            model_name="stationassignment",
            name="center",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="stations",
                to="voterroll.pollingcenter",
            ),
        ),
        migrations.AddConstraint(
            model_name="stationassignment",
            constraint=models.CheckConstraint(
                condition=models.Q(("station__gte", 1)), name="voterroll_station_from_one"
            ),
        ),
        migrations.AddIndex(
            model_name="stationassignment",
            index=models.Index(fields=["center", "station"], name="voterroll_center_station"),
        ),
    ]
