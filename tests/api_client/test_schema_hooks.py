"""The naming rules of config/api/schema_hooks.py on shapes the API does not have yet: serializers added
later must come out with readable names without being listed anywhere."""

from __future__ import annotations

from typing import Any

from config.api.schema_hooks import open_operations_unmarked, readable_component_names

REF = "#/components/schemas/"


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def schema(**components: Any) -> dict[str, Any]:
    return {
        "paths": {
            "/orders": {
                "post": {
                    "requestBody": {
                        "content": {"application/json": {"schema": ref("OrderCreateInputRequest")}}
                    },
                    "responses": {"200": {"content": {"application/json": {"schema": ref("OrderOutput")}}}},
                },
                "get": {
                    "security": [{}],
                    "responses": {
                        "200": {"content": {"application/json": {"schema": ref("PaginatedOrderOutputList")}}}
                    },
                },
            }
        },
        "components": {"schemas": components},
    }


def renamed(document: dict[str, Any]) -> dict[str, Any]:
    return readable_component_names(document, generator=None, request=None, public=True)


def test_new_serializers_get_readable_names_and_every_reference_follows():
    document = renamed(
        schema(
            OrderCreateInputRequest={"type": "object", "properties": {"payment": ref("MethodEnum")}},
            OrderOutput={
                "type": "object",
                "properties": {"status": ref("OrderOutputStatusEnum"), "method": ref("MethodEnum")},
            },
            PaginatedOrderOutputList={
                "type": "object",
                "properties": {"results": {"items": ref("OrderOutput")}},
            },
            OrderOutputStatusEnum={"enum": ["OPEN", "PAID"]},
            MethodEnum={"enum": ["POINTS", "CARD"]},
            NullEnum={"enum": [None]},
        )
    )
    names = set(document["components"]["schemas"])
    # MethodEnum serves two resources' fields (OrderCreate.payment, Order.method): without `Enum` it would
    # read as the field `method` alone, so it keeps its name.
    assert names == {"OrderCreateInput", "OrderOutput", "OrderPage", "OrderStatus", "MethodEnum", "NullEnum"}
    post = document["paths"]["/orders"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == ref("OrderCreateInput")
    page = document["paths"]["/orders"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == ref("OrderPage")
    assert document["components"]["schemas"]["OrderOutput"]["properties"]["status"] == ref("OrderStatus")


def test_a_rename_that_would_clash_is_skipped():
    # A serializer used for requests and responses: `Order` exists, so `OrderRequest` keeps its name.
    document = renamed(schema(Order={"type": "object"}, OrderRequest={"type": "object"}))
    assert set(document["components"]["schemas"]) == {"Order", "OrderRequest"}


def test_open_operations_lose_the_empty_security_requirement():
    document = open_operations_unmarked(schema(), generator=None, request=None, public=True)
    assert "security" not in document["paths"]["/orders"]["get"]
    # With a top-level requirement an unmarked operation would inherit it: nothing changes then.
    guarded = schema()
    guarded["security"] = [{"bearerAuth": []}]
    open_operations_unmarked(guarded, generator=None, request=None, public=True)
    assert guarded["paths"]["/orders"]["get"]["security"] == [{}]


def test_a_shared_enum_named_for_more_than_its_field_drops_enum():
    document = renamed(
        schema(
            OrderOutput={"type": "object", "properties": {"status": ref("ReservationStatusEnum")}},
            ReservationOutput={"type": "object", "properties": {"status": ref("ReservationStatusEnum")}},
            ReservationStatusEnum={"enum": ["PENDING", "CONFIRMED"]},
        )
    )
    assert "ReservationStatus" in document["components"]["schemas"]
    assert document["components"]["schemas"]["OrderOutput"]["properties"]["status"] == ref(
        "ReservationStatus"
    )
