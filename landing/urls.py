from django.urls import path, re_path

from landing import views

app_name = "landing"

urlpatterns = [
    re_path(r"^open/(?P<token>[A-Za-z0-9_-]{20,64})/$", views.landing_open, name="open"),
    path("<uuid:public_id>/", views.landing_page, name="page"),
    path("<uuid:public_id>/code/", views.landing_code, name="code"),
    path("<uuid:public_id>/push/", views.landing_push, name="push"),
]
