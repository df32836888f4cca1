from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "kesher.api"
    label = "api"
