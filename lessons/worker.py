"""The Celery app a lesson's own workers and beats run (``celery -A lessons.worker``): the
project's, with the lesson's settings laid over it from LESSON_CELERY_CONF (broker, queue,
acknowledgement, visibility timeout, schedule), so that each differs only in what it teaches."""

import json
import os

from project.celery import app

app.conf.update(json.loads(os.environ["LESSON_CELERY_CONF"]))
