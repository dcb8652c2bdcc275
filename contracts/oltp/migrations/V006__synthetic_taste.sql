-- Ground truth of the synthetic shop's taste (data_generators/taste.py), for tests and the
-- evaluation of recommendations: what each customer likes, which products were planted as
-- complements, which categories are consumables. Like V002, nothing in the analytics path
-- reads it.

-- The history simulated before the window: affinities drift from its first day.
ALTER TABLE synthetic.generation_runs
    ADD COLUMN history_days integer NOT NULL DEFAULT 0 CHECK (history_days >= 0);

-- A customer's favourite leaf categories: weight at the first simulated day (the history's,
-- else the window's) and at the window's end, moving linearly in between; weights of one
-- customer sum to 1 at either end.
CREATE TABLE synthetic.customer_affinities (
    user_id        bigint           NOT NULL REFERENCES users (id),
    category_id    bigint           NOT NULL REFERENCES categories (id),
    affinity_start double precision NOT NULL CHECK (affinity_start BETWEEN 0 AND 1),
    affinity_end   double precision NOT NULL CHECK (affinity_end BETWEEN 0 AND 1),
    PRIMARY KEY (user_id, category_id)
);

-- Planted pairs: shoppers who add product_id to a cart look at its complement in the same
-- visit ('together'), or come back for it some days after ordering ('sequence').
CREATE TABLE synthetic.complement_pairs (
    product_id            bigint NOT NULL REFERENCES products (id),
    complement_product_id bigint NOT NULL REFERENCES products (id),
    pattern               text   NOT NULL CHECK (pattern IN ('together', 'sequence')),
    PRIMARY KEY (product_id, complement_product_id),
    CHECK (product_id <> complement_product_id)
);

-- Leaf categories whose products are re-bought, and the median days until they are.
CREATE TABLE synthetic.consumable_categories (
    category_id     bigint  PRIMARY KEY REFERENCES categories (id),
    repurchase_days integer NOT NULL CHECK (repurchase_days > 0)
);
