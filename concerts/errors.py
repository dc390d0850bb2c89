from config.exceptions import NotFound


class ConcertNotFound(NotFound):
    default_detail = "Concert not found."


class ScheduleNotFound(NotFound):
    default_detail = "Schedule not found."
