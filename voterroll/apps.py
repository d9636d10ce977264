from django.apps import AppConfig
from django.core import checks


class VoterrollConfig(AppConfig):
    name = "voterroll"
    verbose_name = "Voter rolls"

    def ready(self):
        checks.register(arabic_font_check)


def arabic_font_check(app_configs, **kwargs):
    """Said at start-up (migrate, runserver, the worker), not found out from a roll of '?'."""
    from .pdf import arabic_font_problem

    problem = arabic_font_problem()
    return [checks.Warning(problem, id="voterroll.W001")] if problem else []
