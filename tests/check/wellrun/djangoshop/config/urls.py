from django.urls import include, path
from shop import views

urlpatterns = [
    path("healthz/", views.healthz, name="healthz"),
    path("", include("shop.urls")),
]
