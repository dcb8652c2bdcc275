-- Product recommendations: the batch tables the recommendations Glue job loads (reco schema),
-- the live session the stream processor keeps per visitor (realtime schema), and the
-- read-only database role the recommendations API logs in as.

-- Batch tables. The loader replaces the three tables and inserts a batch_runs row in one
-- transaction, so a reader sees a whole run or the previous one; an empty batch_runs means
-- no run has been loaded yet (the API then serves its fallbacks and says so).
CREATE SCHEMA reco;

-- Top-K similar products per product, separately for each kind of co-occurrence.
CREATE TABLE reco.similar_products (
    product_id         bigint           NOT NULL,
    relation           text             NOT NULL
                           CHECK (relation IN ('viewed_together', 'bought_together')),
    rank               smallint         NOT NULL CHECK (rank >= 1),
    similar_product_id bigint           NOT NULL,
    score              double precision NOT NULL,
    support            integer          NOT NULL,
    PRIMARY KEY (product_id, relation, rank)
);

-- Top-N products per customer, with why each was chosen.
CREATE TABLE reco.customer_recommendations (
    user_id            bigint           NOT NULL,
    rank               smallint         NOT NULL CHECK (rank >= 1),
    product_id         bigint           NOT NULL,
    score              double precision NOT NULL,
    reason             text             NOT NULL
                           CHECK (reason IN ('bought_together', 'viewed_together', 'bought_again',
                                             'popular_in_category', 'popular')),
    reason_product_id  bigint,
    reason_category_id bigint,
    PRIMARY KEY (user_id, rank)
);

-- Popularity overall and within each category, the fallback for new and anonymous visitors.
CREATE TABLE reco.popular_products (
    product_id       bigint           PRIMARY KEY,
    category_id      bigint           NOT NULL,
    score            double precision NOT NULL,
    rank_overall     integer          NOT NULL,
    rank_in_category integer          NOT NULL
);

CREATE TABLE reco.batch_runs (
    run_id                   text        PRIMARY KEY,
    as_of                    date        NOT NULL,
    loaded_at                timestamptz NOT NULL DEFAULT now(),
    similar_products         integer     NOT NULL,
    customer_recommendations integer     NOT NULL,
    popular_products         integer     NOT NULL
);

-- The API reads the latest run, the most popular products overall and within a category.
CREATE INDEX batch_runs_loaded_at ON reco.batch_runs (loaded_at DESC);
CREATE INDEX popular_products_rank_overall ON reco.popular_products (rank_overall);
CREATE INDEX popular_products_rank_in_category
    ON reco.popular_products (category_id, rank_in_category);

-- The last products each visitor viewed or carted, kept by the stream processor in the same
-- transaction as the other live tables. visitor_key is 'u:<user_id>' for a signed-in visitor,
-- else 'a:<anonymous_id>'. One row per product and action with the latest time it happened
-- (an upsert keeping the greatest time, so batches may arrive in any order); the processor
-- prunes each visitor it touched to its most recent rows, so the table stays bounded.
CREATE TABLE realtime.visitor_recent_products (
    visitor_key text        NOT NULL
                    CHECK (visitor_key ~ '^(u:[1-9][0-9]*|a:[0-9a-f-]{36})$'),
    product_id  bigint      NOT NULL,
    action      text        NOT NULL CHECK (action IN ('view', 'cart')),
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (visitor_key, product_id, action)
);

-- A visitor's rows newest first: what the API reads and what the pruning keeps.
CREATE INDEX visitor_recent_products_latest
    ON realtime.visitor_recent_products (visitor_key, occurred_at DESC);

-- Read-only access for the recommendations API. reco_reader holds the grants (only the
-- columns the API reads of the shop's own tables: no e-mail, no cost); reco_api logs in with
-- it. On RDS, reco_api signs in with IAM database authentication (rds_iam), so the API never
-- reads a password. Roles belong to the whole server, so they are created once; the grants
-- belong to this database.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reco_reader') THEN
        CREATE ROLE reco_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reco_api') THEN
        CREATE ROLE reco_api LOGIN IN ROLE reco_reader;
    END IF;
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
        GRANT rds_iam TO reco_api;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA reco, realtime TO reco_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA reco TO reco_reader;
-- Tables the batch loader may create in reco later are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA reco GRANT SELECT ON TABLES TO reco_reader;
GRANT SELECT ON realtime.visitor_recent_products, realtime.product_counters TO reco_reader;
GRANT SELECT (id) ON users TO reco_reader;
GRANT SELECT (id, name, category_id, status) ON products TO reco_reader;
GRANT SELECT (id, name) ON categories TO reco_reader;
