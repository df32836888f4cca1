from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kesher.web"
    label = "web"
