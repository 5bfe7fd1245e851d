from django.urls import re_path

from provisioning import views

app_name = "provisioning"

urlpatterns = [
    re_path(
        r"^logos/(?P<asset_id>[A-Za-z0-9_-]{1,64})\.(?P<image_format>svg|png)$",
        views.token_requestor_logo,
        name="logo",
    ),
]
