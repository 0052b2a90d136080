from django.apps import AppConfig


class LedgerConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "ledger"

    def ready(self) -> None:
        # Register the Celery tasks in every process, not only in workers: services enqueue by
        # name through ledger/queue.py, and Celery's autodiscovery imports the task modules only
        # when a worker or beat starts (loader.import_default_modules), never in a web process.
        from ledger import tasks  # noqa: F401
