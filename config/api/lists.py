"""The list views' one step: a page of a selector's queryset in the collection envelope. (Kept out of
pagination.py, which DRF imports while it is still loading its generic views.)"""

from typing import Any

from django.db.models import QuerySet
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.serializers import Serializer


def paginated_response(view: GenericAPIView, queryset: QuerySet[Any], output: type[Serializer]) -> Response:
    """One page of `queryset` in the collection envelope, each row through `output`."""
    page = view.paginate_queryset(queryset)
    return view.get_paginated_response(output(page, many=True).data)
