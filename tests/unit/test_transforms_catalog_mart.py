"""mart_products: each product of the catalog with its category's name, from the OLTP
tables' current state, in the warehouse table's column order (COPY maps by position)."""

from __future__ import annotations

from decimal import Decimal

from spark_fixtures import table

from contracts.marts import marts
from glue_jobs.transforms.marts import prepared
from glue_jobs.transforms.marts.catalog import products_catalog

OLTP_PRODUCTS = (
    "id bigint, sku string, name string, category_id bigint, brand string, "
    "price decimal(12,2), cost decimal(12,2), status string, created_at timestamp"
)
OLTP_CATEGORIES = "id bigint, name string, parent_id bigint"


def test_each_product_gets_its_attributes_and_its_categorys_name(spark) -> None:
    products = table(spark, OLTP_PRODUCTS, [
        (3, "SKU-3", "Kestrel Max Headset", 20, "Kestrel", "129.99", "61.00", "active",
         "2026-01-02 10:00"),
        (1, "SKU-1", "Maison Nord Blender", 10, "Maison Nord", "49.50", "20.10", "discontinued",
         "2026-01-01 09:00"),
        # Its category is not in the catalog any more: the product stays, without a name.
        (7, "SKU-7", "Tempo Bike Light", 99, "Tempo", "0.00", "0.00", "active",
         "2026-01-03 08:00"),
    ])  # fmt: skip
    categories = table(spark, OLTP_CATEGORIES, [
        (10, "Small Appliances", None),
        (20, "Headphones", 5),
        (30, "Cycling", None),
    ])  # fmt: skip

    catalog = products_catalog(
        prepared.product_attributes(products), prepared.categories(categories)
    )

    assert catalog.columns == [column.name for column in marts()["mart_products"].columns]
    assert sorted(tuple(row) for row in catalog.collect()) == [
        (1, "SKU-1", "Maison Nord Blender", "Maison Nord", 10, "Small Appliances",
         Decimal("49.50"), "discontinued"),
        (3, "SKU-3", "Kestrel Max Headset", "Kestrel", 20, "Headphones", Decimal("129.99"),
         "active"),
        (7, "SKU-7", "Tempo Bike Light", "Tempo", 99, None, Decimal("0.00"), "active"),
    ]  # fmt: skip
