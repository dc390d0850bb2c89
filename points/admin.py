"""Wallets and ledger are read-only here: money moves only through points.services, so an operator's
correction is a `points_adjust` call (an ADJUSTMENT ledger row with reason and actor), never an edit."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from config.admin_readonly import ReadOnlyAdminMixin
from config.api.auth import request_user_id
from config.db import atomic_with_retry
from config.exceptions import DomainError
from points.models import LedgerEntry, Wallet
from points.services import points_adjust


class LedgerEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = LedgerEntry
    fields = ("created_at", "kind", "amount", "balance_after", "reference", "reason", "actor")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    show_change_link = True


class WalletAdjustForm(forms.Form):
    amount = forms.IntegerField(help_text="Signed: positive adds points, negative removes them.")
    reason = forms.CharField(max_length=255)

    def clean_amount(self) -> int:
        amount: int = self.cleaned_data["amount"]
        if amount == 0:
            raise forms.ValidationError("An adjustment cannot be zero.")
        return amount


@admin.register(Wallet)
class WalletAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "balance", "updated_at")
    search_fields = ("user__email",)
    readonly_fields = ("user", "balance", "updated_at")
    list_select_related = ("user",)
    inlines = [LedgerEntryInline]
    change_form_template = "admin/points/wallet/change_form.html"

    def get_urls(self) -> list[URLPattern]:
        adjust = path(
            "<path:object_id>/adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="points_wallet_adjust",
        )
        return [adjust, *super().get_urls()]

    def adjust_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if not request.user.has_perm("points.change_wallet"):
            raise PermissionDenied
        wallet = get_object_or_404(Wallet.objects.select_related("user"), pk=object_id)
        form = WalletAdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            amount, reason = form.cleaned_data["amount"], form.cleaned_data["reason"]

            def adjust_and_log() -> int:
                # The ledger row and the admin history entry commit together (retried as one).
                balance = points_adjust(
                    user_id=wallet.pk, amount=amount, reason=reason, actor_id=request_user_id(request)
                )
                self.log_change(
                    request, wallet, f"Adjusted the balance by {amount:+d} to {balance}: {reason}"
                )
                return balance

            try:
                balance = atomic_with_retry(adjust_and_log)()
            except DomainError as exc:  # InvalidInput included
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Balance adjusted; it is now {balance}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:points_wallet_change", args=[wallet.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": wallet,
            "form": form,
            "title": f"Adjust the balance of {wallet.user}",
        }
        return TemplateResponse(request, "admin/points/wallet/adjust.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "wallet", "kind", "amount", "balance_after", "reference", "actor")
    list_filter = ("kind",)
    search_fields = ("wallet__user__email", "reference")
    readonly_fields = (
        "wallet",
        "kind",
        "amount",
        "balance_after",
        "reference",
        "reason",
        "actor",
        "created_at",
    )
    list_select_related = ("wallet__user", "actor")
    ordering = ("-created_at", "-id")
    date_hierarchy = "created_at"
