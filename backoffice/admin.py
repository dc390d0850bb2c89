"""Registration only: each back-office page lives in its own module."""

from django.contrib import admin

from backoffice.models import SalesDashboard
from backoffice.sales_dashboard import SalesDashboardAdmin

admin.site.register(SalesDashboard, SalesDashboardAdmin)
