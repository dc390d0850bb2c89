"""Registration only: each back-office page lives in its own module."""

from django.contrib import admin

from backoffice.live_sale.admin import LiveSaleAdmin
from backoffice.models import LiveSale, SalesDashboard
from backoffice.sales_dashboard import SalesDashboardAdmin

admin.site.register(SalesDashboard, SalesDashboardAdmin)
admin.site.register(LiveSale, LiveSaleAdmin)
