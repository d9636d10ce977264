from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Celery canvas workbench"
admin.site.site_title = "Celery canvas workbench"
admin.site.index_title = "Groups, chords and voter rolls"
# The pages here are wide tables and timelines; the index already lists every model.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]

handler500 = "project.outages.server_error"
