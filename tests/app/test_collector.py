"""The app serves with the tuned garbage-collector thresholds (app/collector.py; the gain is measured by the
10,000-user benchmark, not here) and gives the process its previous ones back when it stops."""

import gc

from app.collector import THRESHOLDS
from app.factory import create_app
from app.settings import load_settings
from localdev.cluster import free_port
from tests.app.helpers import running_app


async def test_the_app_serves_with_the_tuned_thresholds_and_restores_the_previous_ones() -> None:
    dead = f"postgresql://nobody@127.0.0.1:{free_port()}/app?sslmode=disable"  # no database needed for this
    settings = load_settings(database_url=dead, database_acquire_timeout=200)
    outside = gc.get_threshold()  # another test's app may be serving in this process: tuned already
    before = (700, 10, 10)  # the interpreter's defaults, set here so the checks below can tell them apart
    gc.set_threshold(*before)
    try:
        async with running_app(settings) as (_app, client):
            assert gc.get_threshold() == THRESHOLDS
            assert (await client.get("/health")).status_code == 200
            assert gc.get_threshold() == THRESHOLDS
        assert gc.get_threshold() == before
        create_app(settings)  # building the app alone changes nothing: only serving does
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*outside)
