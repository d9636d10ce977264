from django.db import migrations


class Migration(migrations.Migration):
    """One word per thing: a center's and a voter's public number is `number` (a `center_id` is
    a key), their name is `name`, and times end in `_dt` as the reports' do."""

    dependencies = [
        ("voterroll", "0003_voter_keys"),
    ]

    operations = [
        migrations.RenameField(model_name="pollingcenter", old_name="center_id", new_name="number"),
        migrations.RenameField(model_name="pollingcenter", old_name="center_name", new_name="name"),
        migrations.RenameField(
            model_name="pollingcenter", old_name="rolls_generated_at", new_name="rolls_written_dt"
        ),
        migrations.RenameField(model_name="voter", old_name="voter_id", new_name="number"),
        migrations.RenameField(model_name="voter", old_name="voter_name", new_name="name"),
        migrations.RenameField(model_name="rollrun", old_name="queued_at", new_name="queued_dt"),
        migrations.RenameField(model_name="rollrun", old_name="started_at", new_name="started_dt"),
        migrations.RenameField(model_name="rollrun", old_name="finished_at", new_name="finished_dt"),
        migrations.AlterModelOptions(name="pollingcenter", options={"ordering": ["number"]}),
        migrations.AlterModelOptions(name="voter", options={"ordering": ["name", "number"]}),
        migrations.AlterModelOptions(name="rollrun", options={"ordering": ["-queued_dt", "-pk"]}),
    ]
