from django.apps import AppConfig


class LessonsConfig(AppConfig):
    name = "lessons"

    def ready(self):
        from . import experiments  # noqa: F401  (registers every lesson)
