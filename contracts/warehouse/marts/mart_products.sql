-- mart_products: one row per product of the catalog, as the shop's database holds it at the
--   run: what the marts keyed by product_id show as the product's name, brand and category.
-- DISTSTYLE ALL: one row per product (thousands), joined with the per-product marts; a copy
--   on every node makes those joins local whatever their keys.
-- SORTKEY (product_id): lookups and joins are by product.
CREATE TABLE IF NOT EXISTS mart_products (
    product_id    BIGINT         NOT NULL,
    sku           VARCHAR(64)    NOT NULL,
    product_name  VARCHAR(256)   NOT NULL,
    brand         VARCHAR(128)   NOT NULL,
    category_id   BIGINT         NOT NULL,
    category_name VARCHAR(256),
    price         DECIMAL(12,2)  NOT NULL,
    status        VARCHAR(16)    NOT NULL,
    PRIMARY KEY (product_id)
)
DISTSTYLE ALL
SORTKEY (product_id);
