"""Pages outside any company: the overview of my companies and the company switcher."""

from django.urls import path

from companies import views

urlpatterns = [
    path("", views.home, name="home"),
    path("bytt-selskap/", views.company_switch, name="company_switch"),
]
