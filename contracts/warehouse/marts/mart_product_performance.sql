-- mart_product_performance: one row per product over the input period, rebuilt every run.
-- DISTSTYLE ALL: one row per product (thousands), joined with inventory health and with
--   product attributes; a copy on every node makes those joins local whatever their keys.
-- SORTKEY (product_id): lookups and joins are by product.
CREATE TABLE IF NOT EXISTS mart_product_performance (
    product_id           BIGINT           NOT NULL,
    category_id          BIGINT,
    views                BIGINT           NOT NULL,
    view_sessions        BIGINT           NOT NULL,
    add_to_cart_sessions BIGINT           NOT NULL,
    purchase_sessions    BIGINT           NOT NULL,
    orders               BIGINT           NOT NULL,
    units                BIGINT           NOT NULL,
    revenue              DECIMAL(18,2)    NOT NULL,
    refunded_orders      BIGINT           NOT NULL,
    add_to_cart_rate     DOUBLE PRECISION,
    conversion_rate      DOUBLE PRECISION,
    refund_rate          DOUBLE PRECISION,
    PRIMARY KEY (product_id)
)
DISTSTYLE ALL
SORTKEY (product_id);
