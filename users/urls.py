from django.urls import path

from users import views

urlpatterns = [
    path("confirm-it-is-you/", views.step_up_view, name="step_up"),
]
