from django.apps import AppConfig


class CardholdersConfig(AppConfig):
    name = "cardholders"
    verbose_name = "Cardholders and cards"
