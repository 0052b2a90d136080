from django.apps import AppConfig


class TripletexConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "tripletex"
