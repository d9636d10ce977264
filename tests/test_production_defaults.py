"""The shipped production settings (start.env, docker-compose.yml) keep the README's promises."""

import json
import re

import yaml

from tests.utils import BASE_DIR, manage

# A row of the README's table of variables with one variable and one default: | `NAME` | … | `value` |
README_ROW = re.compile(r"^\| `([A-Z0-9_]+)` \|[^|]*\| `([^`]+)` \|$", re.MULTILINE)


def start_env():
    lines = (BASE_DIR / "start.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_start_env_sets_what_the_readme_gives_as_the_default():
    """The README promises a dead worker blocks runs for minutes; start.env once said 2 hours."""
    documented = dict(README_ROW.findall((BASE_DIR / "README.md").read_text()))
    shipped = start_env()
    # A strong key in place of the placeholder, which Prod refuses; nothing connects to a server.
    env = {**shipped, "SECRET_KEY": "k7#Vq9!zR2m$Xw4@Lp8^Tn6&Hb3*Jd5(Fc1)Gs0-Ya_Ue+Oi=Wr", "VAR_DIR": "/tmp"}
    # The product's own knobs; the addresses of servers and stores differ from Dev's on purpose.
    compared = sorted(
        name
        for name in set(documented) & set(shipped)
        if name.startswith(("REPORTS_", "VOTERROLL_", "AXES_"))
    )
    show = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: str(getattr(s, n)) for n in {compared!r}}}))"
    )

    result = manage("shell", "-v", "0", "-c", show, env=env)

    assert result.returncode == 0, result.stderr
    assert {"VOTERROLL_STALLED_AFTER", "REPORTS_STALLED_AFTER"} <= set(compared)
    assert json.loads(result.stdout) == {name: documented[name] for name in compared}
    assert int(documented["VOTERROLL_STALLED_AFTER"]) <= 15 * 60
    assert int(documented["REPORTS_STALLED_AFTER"]) <= 15 * 60


def test_compose_brings_web_workers_beat_and_flower_back_after_a_crash():
    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]

    for name in ["web", "worker", "beat", "flower"]:
        assert services[name].get("restart") == "unless-stopped", name
    for one_off in ["release", "bucket"]:
        assert services[one_off]["restart"] == "no"
