-- mart_inventory_health: one row per product and as-of date: stock, demand, reorder point.
-- DISTKEY (product_id): one row per product per day grows with history; the product key
--   spreads it evenly and keeps a product's days on one slice for trend queries. Joins to
--   mart_product_performance are local because that table is on every node.
-- SORTKEY (as_of, stockout_risk): questions take the latest as-of date and filter by risk;
--   a reload replaces one as-of date.
-- Columns follow the Parquet files; the partition column comes last.
CREATE TABLE IF NOT EXISTS mart_inventory_health (
    product_id               BIGINT           NOT NULL,
    on_hand                  INTEGER          NOT NULL,
    lead_time_days           INTEGER          NOT NULL,
    configured_reorder_point INTEGER          NOT NULL,
    demand_28d               BIGINT           NOT NULL,
    demand_7d                BIGINT           NOT NULL,
    avg_daily_demand         DOUBLE PRECISION NOT NULL,
    demand_stddev            DOUBLE PRECISION,
    safety_stock             INTEGER,
    reorder_point            INTEGER,
    days_of_cover            DOUBLE PRECISION,
    stockout_risk            VARCHAR(16)      NOT NULL,
    as_of                    DATE             NOT NULL,
    PRIMARY KEY (product_id, as_of)
)
DISTKEY (product_id)
SORTKEY (as_of, stockout_risk);
