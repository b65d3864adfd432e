from django.urls import path

app_name = "drugtests"
urlpatterns: list = []
