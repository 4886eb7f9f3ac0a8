"""Settings for benchmark servers: the app's own settings plus two baseline views on the same server."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR", "handlers": []}}
import os as _os  # noqa: E402

if _os.environ.get("BENCH_WORKER_LOG"):
    LOGGING = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"err": {"class": "logging.StreamHandler"}},
        "loggers": {"celery.app.trace": {"level": "INFO", "handlers": ["err"]}},
    }
