from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """`{count, next, previous, results}` with `?page=` and `?page_size=` (max 100)."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


class WholeCollection(Pagination):
    """Collections that come whole (a schedule's seat map): the same envelope, every row, `next` null."""

    page_size = 100_000
    page_size_query_param = None  # type: ignore[assignment]  # DRF reads None as "no such parameter"
    max_page_size = 100_000
