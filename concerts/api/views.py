from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from concerts import selectors
from concerts.api.serializers import (
    PUBLIC_SEAT_STATUSES,
    ConcertDetailOutput,
    ConcertOutput,
    ScheduleListQuery,
    ScheduleOutput,
    SeatListQuery,
    SeatOutput,
)
from config.api.lists import paginated_response
from config.api.pagination import WholeCollection
from config.api.plain import plain_endpoint
from config.api.schema import problem_responses


class _PublicList(GenericAPIView):
    """Catalog reads are public: no token needed (and none is parsed)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]


class ConcertListView(_PublicList):
    serializer_class = ConcertOutput

    @extend_schema(
        responses={
            200: ConcertOutput(many=True),
            **problem_responses((404, "`not_found`: no such page"), 503),
        },
        operation_id="concerts_list",
    )
    def get(self, request: Request) -> Response:
        return paginated_response(self, selectors.concert_list(), ConcertOutput)


class ConcertDetailView(GenericAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    serializer_class = ConcertDetailOutput

    @extend_schema(
        responses={
            200: ConcertDetailOutput,
            **problem_responses((404, "`not_found`: no such concert"), 503),
        },
        operation_id="concerts_retrieve",
    )
    def get(self, request: Request, concert_id: int) -> Response:
        return Response(ConcertDetailOutput(selectors.concert_detail(concert_id=concert_id)).data)


class ScheduleListView(_PublicList):
    serializer_class = ScheduleOutput

    @extend_schema(
        parameters=[ScheduleListQuery],
        responses={
            200: ScheduleOutput(many=True),
            **problem_responses(400, (404, "`not_found`: no such concert or page"), 503),
        },
        operation_id="concerts_schedules_list",
    )
    def get(self, request: Request, concert_id: int) -> Response:
        query = ScheduleListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        concert = selectors.concert_get(concert_id=concert_id)
        schedules = selectors.schedule_list_bookable(
            concert=concert, on_date=query.validated_data.get("date")
        )
        return paginated_response(self, schedules, ScheduleOutput)


class SeatListView(_PublicList):
    serializer_class = SeatOutput
    pagination_class = WholeCollection

    @extend_schema(
        parameters=[SeatListQuery],
        responses={
            200: SeatOutput(many=True),
            **problem_responses(400, (404, "`not_found`: no such schedule or page"), 503),
        },
        operation_id="schedules_seats_list",
    )
    def get(self, request: Request, schedule_id: int) -> Response:
        # Documentation only: served by seat_map_view below, the hottest catalog read.
        raise NotImplementedError("GET /schedules/{id}/seats is served by concerts.api.views.seat_map_view")


@plain_endpoint("GET")
def seat_map_view(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """The seat map as a plain view: its JSON body comes rendered from the cache (one Redis call)."""
    status = request.GET.get("status")
    if status is not None and status not in PUBLIC_SEAT_STATUSES:
        raise ValidationError({"status": [f'"{status}" is not a valid choice.']})
    body = selectors.seat_map_json(schedule_id=schedule_id, status=status)
    return HttpResponse(body, content_type="application/json")
