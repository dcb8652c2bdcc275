-- The ML scoring pipeline's scores, for the shop's own services (retention offers, service
-- priority): one row per customer and scoring day, upserted, so re-scoring a day replaces it.
-- Derived data in a schema of its own, as the real-time tables are (the public schema holds
-- the shop's own tables); no foreign key to users, a score row never blocks deleting a user.
CREATE SCHEMA ml;

CREATE TABLE ml.customer_scores (
    user_id               bigint           NOT NULL,
    as_of                 date             NOT NULL,
    churn_probability     double precision NOT NULL CHECK (churn_probability BETWEEN 0 AND 1),
    churn_band            text             NOT NULL CHECK (churn_band IN ('low', 'medium', 'high')),
    p_alive               double precision NOT NULL CHECK (p_alive BETWEEN 0 AND 1),
    expected_orders_90d   double precision NOT NULL,
    expected_orders_365d  double precision NOT NULL,
    expected_revenue_365d double precision NOT NULL,
    clv_365d              double precision NOT NULL,
    action_segment        text             NOT NULL,
    top_drivers           jsonb            NOT NULL,
    new_customer          boolean          NOT NULL,
    churn_model_version   text             NOT NULL,
    clv_model_version     text             NOT NULL,
    scored_at             timestamptz      NOT NULL,
    PRIMARY KEY (user_id, as_of)
);

-- "Latest scores" reads one day for every customer.
CREATE INDEX customer_scores_as_of ON ml.customer_scores (as_of);
