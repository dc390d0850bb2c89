from concerts.models import Schedule


class SalesDashboard(Schedule):
    """Schedules seen as the operators' sales dashboard (admin only; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "sales dashboard"
        verbose_name_plural = "sales dashboard"
