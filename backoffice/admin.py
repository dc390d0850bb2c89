"""The back office's admin registrations (each page's code lives in its own module)."""

from django.contrib import admin

from backoffice.live_sale.admin import LiveSaleAdmin
from backoffice.models import LiveSale

admin.site.register(LiveSale, LiveSaleAdmin)
