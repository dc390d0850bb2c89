"""drf-spectacular postprocessing hooks: a schema that client generators turn into a good client.

`readable_component_names`: component names a generator turns into good class names.

drf-spectacular names components after serializers and adds machinery to the names: `Request` on every
request body (`UserRegisterInputRequest`), `Paginated...List` around list pages
(`PaginatedConcertOutputList`), and enums named after the field alone (`StateEnum`) or, when two clash,
after serializer and field (`PaymentOutputStatusEnum`). Rules, applied to every component so that new
serializers follow them without a name listed anywhere:

- a request body drops the added `Request` (`UserRegisterInput`), unless that name is taken;
- a page of results is `<Resource>Page` (`ConcertPage`, from `PaginatedConcertOutputList`);
- an enum used by one resource's field is `<Resource><Field>` (`PaymentStatus`, `QueueOverviewState`,
  `LedgerEntryKind`); an enum shared by several resources or fields drops its `Enum` ending when what is
  left says more than the field's name (`ReservationStatusEnum` -> `ReservationStatus`, but `StatusEnum`
  stays); `NullEnum`/`BlankEnum` keep their names.
The resource is the serializer's name without its `Input`/`Output` ending. A rename that would clash with
an existing component is skipped, so the schema stays valid whatever serializers are added.
"""

from __future__ import annotations

import re
from typing import Any

REF_PREFIX = "#/components/schemas/"
_PAGE = re.compile(r"^Paginated(?P<item>\w+)List$")
_SHAPE_SUFFIXES = ("Output", "Input")


def _resource(component: str) -> str:
    for suffix in _SHAPE_SUFFIXES:
        if component.endswith(suffix) and component != suffix:
            return component[: -len(suffix)]
    return component


def _pascal(field: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in field.split("_"))


def _refs_in(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"][len(REF_PREFIX) :]] if str(node.get("$ref", "")).startswith(REF_PREFIX) else []
        return found + [ref for value in node.values() for ref in _refs_in(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in _refs_in(item)]
    return []


def _is_choice_enum(schema: dict[str, Any]) -> bool:
    """An enum of real choices; not drf-spectacular's NullEnum/BlankEnum, which only mark a choice field
    as nullable or blank and keep their names."""
    return any(value not in (None, "") for value in schema.get("enum", []))


def _enum_owners(schemas: dict[str, Any]) -> dict[str, set[tuple[str, str]]]:
    """Each enum component -> the (resource, field) pairs whose property refers to it."""
    owners: dict[str, set[tuple[str, str]]] = {}
    for name, schema in schemas.items():
        for field, prop in (schema.get("properties") or {}).items():
            for ref in _refs_in(prop):
                if _is_choice_enum(schemas.get(ref, {})):
                    owners.setdefault(ref, set()).add((_resource(name), field))
    return owners


def _renames(schemas: dict[str, Any]) -> dict[str, str]:
    wanted: dict[str, str] = {}
    for name in schemas:
        if name.endswith("Request") and len(name) > len("Request"):
            wanted[name] = name[: -len("Request")]
        elif page := _PAGE.match(name):
            wanted[name] = f"{_resource(page['item'])}Page"
    for enum, owners in _enum_owners(schemas).items():
        if len(owners) == 1:
            ((resource, field),) = owners
            wanted[enum] = f"{resource}{_pascal(field)}"
        elif enum.endswith("Enum") and enum[: -len("Enum")] not in {_pascal(field) for _, field in owners}:
            wanted[enum] = enum[: -len("Enum")]  # a shared ReservationStatusEnum -> ReservationStatus
    renames: dict[str, str] = {}
    taken = set(schemas)
    for old, new in wanted.items():
        if new != old and new not in taken:
            renames[old] = new
            taken.add(new)
    return renames


def _rewrite_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                REF_PREFIX + renames.get(value[len(REF_PREFIX) :], value[len(REF_PREFIX) :])
                if key == "$ref" and isinstance(value, str) and value.startswith(REF_PREFIX)
                else _rewrite_refs(value, renames)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def readable_component_names(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """POSTPROCESSING_HOOKS entry; runs after drf-spectacular's enum hook (which creates the enums)."""
    schemas = result.get("components", {}).get("schemas", {})
    renames = _renames(schemas)
    if not renames:
        return result
    result = _rewrite_refs(result, renames)
    result["components"]["schemas"] = {
        renames.get(name, name): schema for name, schema in result["components"]["schemas"].items()
    }
    return result


def open_operations_unmarked(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """An operation anyone may call is marked `security: [{}]` (no requirement). With no top-level
    `security` an operation without the key means the same, and generators read an unmarked operation as
    open (openapi-python-client takes any `security` list as needing the authenticated client)."""
    if result.get("security"):
        return result
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("security") == [{}]:
                del operation["security"]
    return result
