import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("voterroll", "0005_run_progress_task_and_bytes"),
    ]

    operations = [
        # Existing voters get no gender (""), not a made-up one: runs refuse them with a message
        # until the voter data is made again (voterroll.runs.create_run).
        migrations.AddField(
            model_name="voter",
            name="gender",
            field=models.CharField(choices=[("F", "female"), ("M", "male")], default="", max_length=1),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="pollingcenter",
            name="rolls_run",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="voterroll.rollrun",
            ),
        ),
    ]
