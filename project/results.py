"""django-celery-results' database backend, with a store and a chord count that cost less.

Upstream (2.6.0) spends four statements storing each result (a get_or_create), locks and saves
the chord's counter in a transaction of its own for each header task, and when the count
reaches zero reads the header's results one query each, within result_chord_join_timeout (3 s):
a 1,000-task header can time out (django-celery-results #482), and a header task run twice,
which acks_late allows after a worker dies, counts twice and can fire the body before the
other results exist, or never (#397). Here a result is one upsert, a header task's count is
one UPDATE, and at zero the results are read in one query: the body runs once every result is
ready, however often a header task ran, and a count that reached zero too early is set again.
"""

import json

from celery import maybe_signature, states
from celery.exceptions import ChordError
from django.db import connection, connections, transaction
from django.db.models.functions import Now
from django_celery_results.backends import DatabaseBackend as UpstreamDatabaseBackend
from django_celery_results.models import ChordCounter, TaskResult

from .outages import is_outage


class DatabaseBackend(UpstreamDatabaseBackend):
    def _store_result(self, task_id, result, status, traceback=None, request=None, using=None):
        content_type, content_encoding, encoded = self.encode_content(result)
        meta = {**self._get_meta_from_request(request), "children": self.current_task_children(request)}
        fields = {
            **self._get_extended_properties(request, traceback),
            "status": status,
            "result": encoded,
            "traceback": traceback,
            "meta": self.encode_content(meta)[2],
            "content_type": content_type,
            "content_encoding": content_encoding,
        }
        if status == states.STARTED:
            fields["date_started"] = Now()
        TaskResult._default_manager.using(using).bulk_create(
            [TaskResult(task_id=task_id, **fields)],
            update_conflicts=True,
            unique_fields=["task_id"],
            update_fields=[*fields, "date_done"],
        )
        return result

    def apply_chord(self, header_result_args, body, **kwargs):
        """Start counting a chord's header, once: the same canvas sent again (an option's task
        delivered again after a crash, under the same ids) keeps the count it has."""
        header = self.app.GroupResult(*header_result_args)
        results = [result.as_tuple() for result in header]
        ChordCounter.objects.get_or_create(
            group_id=header.id,
            defaults={"sub_tasks": json.dumps(results), "count": body.get("chord_size") or len(results)},
        )

    def add_to_chord(self, group_id, result):
        """Count one more header task, ``result``'s, which Task.add_to_chord sends next; once:
        the same task added again (its sender delivered again, sending under the same ids) is
        counted already.

        Under the counter's lock, so that no header task's count is lost. The sender is a header
        task still running: the count cannot reach zero before it has added all it adds.
        """
        with transaction.atomic():
            counter = ChordCounter.objects.select_for_update().filter(group_id=group_id).first()
            if counter is None:
                raise ChordError(f"Chord {group_id} has completed: no task can be added to it")
            sub_tasks = json.loads(counter.sub_tasks)
            if any(task_id == result.id for (task_id, _), _ in sub_tasks):
                return
            counter.sub_tasks = json.dumps([*sub_tasks, result.as_tuple()])
            counter.count += 1
            counter.save(update_fields=["sub_tasks", "count"])

    def exception_safe_to_retry(self, exc):
        """With result_backend_always_retry, Celery stores a result again after a database
        outage (PostgreSQL restarted, say): from a new connection."""
        if is_outage(exc):
            connections.close_all()
            return True
        return False

    def on_chord_part_return(self, request, state, result, **kwargs):
        """Count one header task done; the one that finds every result ready sends the body."""
        if request.group and request.id:
            self._ensure_retryable(self.count_chord_part, request)

    def count_chord_part(self, request):
        table = connection.ops.quote_name(ChordCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                # Never below zero (PostgreSQL's check on the column): a header task run twice
                # may count after the count reached zero and before the body was sent.
                f"UPDATE {table} SET count = CASE WHEN count > 0 THEN count - 1 ELSE 0 END "
                "WHERE group_id = %s RETURNING count",
                [request.group],
            )
            row = cursor.fetchone()
        if row is not None and row[0] <= 0:
            self.complete_chord(request.group, maybe_signature(request.chord, app=self.app))

    def complete_chord(self, group_id, body):
        """Send ``body`` the header's results if all are ready, else count the ones still to come.

        Under the counter's lock, so that only one task sends the body and no count is lost.
        """
        with transaction.atomic():
            counter = ChordCounter.objects.select_for_update().filter(group_id=group_id).first()
            if counter is None or counter.count > 0:
                return  # sent already, or set again by a task that looked first
            task_ids = [result.id for result in counter.group_result(app=self.app).results]
            stored = TaskResult.objects.in_bulk(task_ids, field_name="task_id")
            waiting = [
                task_id
                for task_id in task_ids
                if task_id not in stored or stored[task_id].status not in states.READY_STATES
            ]
            if waiting:
                counter.count = len(waiting)
                counter.save(update_fields=["count"])
                return
            counter.delete()
        failed = next(
            (stored[task_id] for task_id in task_ids if stored[task_id].status != states.SUCCESS), None
        )
        try:
            if failed is not None:
                exc = self.exception_to_python(self.decode_content(failed, failed.result))
                raise ChordError(f"Dependency {failed.task_id} raised {exc!r}")
            try:
                body.delay(
                    [self.decode_content(stored[task_id], stored[task_id].result) for task_id in task_ids]
                )
            except Exception as exc:
                raise ChordError(f"Callback error: {exc!r}") from exc
        except ChordError as error:  # raised, so that Celery finds the traceback it records
            self.chord_error_from_stack(body, error)
