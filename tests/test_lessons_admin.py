"""The admin's lessons: a Run button for those who may, a lesson queued on commit, bad input
refused with a message. (A lesson run from the admin for real: tests/browser/test_lessons_live.py.)"""

from django.contrib.auth.models import Permission
from django.urls import reverse

from lessons.models import LessonRun

CHANGELIST = reverse("admin:lessons_lessonrun_changelist")
RUN = reverse("admin:lessons_lessonrun_run")


def test_staff_who_may_only_view_see_the_claims_but_no_run_button_and_cannot_post(client, django_user_model):
    clerk = django_user_model.objects.create_user("clerk", password="x", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_lessonrun"))
    client.force_login(clerk)

    page = client.get(CHANGELIST).content.decode()
    assert "Two beats enqueue every periodic task twice" in page and "Run two-beats" not in page
    assert client.post(RUN, {"lesson": "two-beats"}).status_code == 403
    assert not LessonRun.objects.exists()


def test_run_queues_the_lesson_for_the_worker_once_saved(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    assert 'aria-label="Run two-beats"' in admin_client.get(CHANGELIST).content.decode()

    with django_capture_on_commit_callbacks() as sent:
        response = admin_client.post(RUN, {"lesson": "two-beats"})

    run = LessonRun.objects.get()
    assert response.url == reverse("admin:lessons_lessonrun_change", args=[run.pk])
    assert (run.lesson, run.status, run.started_by) == ("two-beats", LessonRun.Status.QUEUED, admin_user)
    assert len(sent) == 1  # the task, sent on commit (not run here: no worker in this test)
    page = admin_client.get(response.url).content.decode()
    assert 'http-equiv="refresh"' in page and "Run only ever one beat" in page


def test_an_unknown_lesson_is_refused_with_a_message_and_nothing_saved(admin_client):
    response = admin_client.post(RUN, {"lesson": "three-beats"}, follow=True)

    # The admin capitalises a message.
    assert "No lesson named &#x27;three-beats&#x27;; lessons: visibility-timeout" in response.content.decode()
    assert not LessonRun.objects.exists()
