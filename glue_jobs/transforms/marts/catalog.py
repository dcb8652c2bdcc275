"""The catalog mart: the other marts name products by id only, and an analyst reads names."""

from __future__ import annotations

from pyspark.sql import DataFrame

CATALOG_COLUMNS = (
    "product_id", "sku", "product_name", "brand", "category_id", "category_name", "price",
    "status",
)  # fmt: skip


def products_catalog(product_attributes: DataFrame, categories: DataFrame) -> DataFrame:
    """mart_products: one row per product, with its category's name (null for a category
    the catalog no longer has)."""
    return product_attributes.join(categories, "category_id", "left").select(*CATALOG_COLUMNS)
