-- The shop's transactional model. Every table carries created_at / updated_at so the
-- extract job can read it incrementally by updated_at; a trigger keeps updated_at honest.
-- Money is numeric(12,2) and never negative; quantities are integers.

CREATE FUNCTION set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$;

CREATE TABLE users (
    id                  bigint      PRIMARY KEY,
    email               text        NOT NULL UNIQUE CHECK (position('@' IN email) > 1),
    first_name          text        NOT NULL,
    last_name           text        NOT NULL,
    country_code        char(2)     NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    city                text        NOT NULL,
    acquisition_channel text        NOT NULL CHECK (acquisition_channel IN
                            ('organic_search', 'paid_search', 'social', 'email',
                             'referral', 'direct', 'affiliate')),
    marketing_opt_in    boolean     NOT NULL DEFAULT false,
    status              text        NOT NULL DEFAULT 'active'
                            CHECK (status IN ('active', 'closed')),
    signed_up_at        timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE categories (
    id          bigint      PRIMARY KEY,
    parent_id   bigint      REFERENCES categories (id),
    name        text        NOT NULL,
    slug        text        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9-]+$'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT categories_not_own_parent CHECK (parent_id IS NULL OR parent_id <> id)
);

CREATE TABLE products (
    id          bigint        PRIMARY KEY,
    sku         text          NOT NULL UNIQUE,
    name        text          NOT NULL,
    category_id bigint        NOT NULL REFERENCES categories (id),
    brand       text          NOT NULL,
    price       numeric(12,2) NOT NULL CHECK (price >= 0),
    cost        numeric(12,2) NOT NULL CHECK (cost >= 0),
    status      text          NOT NULL DEFAULT 'active'
                    CHECK (status IN ('active', 'discontinued')),
    created_at  timestamptz   NOT NULL DEFAULT now(),
    updated_at  timestamptz   NOT NULL DEFAULT now()
);

CREATE TABLE inventory (
    product_id        bigint      PRIMARY KEY REFERENCES products (id),
    on_hand           integer     NOT NULL CHECK (on_hand >= 0),
    reorder_point     integer     NOT NULL CHECK (reorder_point >= 0),
    reorder_quantity  integer     NOT NULL CHECK (reorder_quantity > 0),
    lead_time_days    integer     NOT NULL CHECK (lead_time_days > 0),
    last_restocked_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Every stock change, so demand and restocks can be rebuilt for any past window.
CREATE TABLE inventory_movements (
    id          bigint      PRIMARY KEY,
    product_id  bigint      NOT NULL REFERENCES products (id),
    quantity    integer     NOT NULL CHECK (quantity <> 0),
    reason      text        NOT NULL CHECK (reason IN ('order', 'restock', 'return', 'adjustment')),
    order_id    bigint,
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT inventory_movements_sign_matches_reason
        CHECK ((reason = 'order') = (quantity < 0) OR reason = 'adjustment')
);

CREATE TABLE sessions (
    id             uuid        PRIMARY KEY,
    user_id        bigint      REFERENCES users (id),
    anonymous_id   uuid        NOT NULL,
    channel        text        NOT NULL CHECK (channel IN ('web', 'mobile_app')),
    device_type    text        NOT NULL CHECK (device_type IN ('desktop', 'mobile', 'tablet')),
    traffic_source text        NOT NULL CHECK (traffic_source IN
                       ('organic_search', 'paid_search', 'social', 'email',
                        'referral', 'direct', 'affiliate')),
    landing_page   text        NOT NULL,
    exit_page      text        NOT NULL,
    referrer       text,
    utm_source     text,
    utm_medium     text,
    utm_campaign   text,
    page_views     integer     NOT NULL CHECK (page_views >= 0),
    event_count    integer     NOT NULL CHECK (event_count >= 1),
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT sessions_end_after_start CHECK (ended_at >= started_at)
);

CREATE TABLE carts (
    id           uuid        PRIMARY KEY,
    user_id      bigint      REFERENCES users (id),
    session_id   uuid        NOT NULL REFERENCES sessions (id),
    status       text        NOT NULL CHECK (status IN ('open', 'abandoned', 'converted')),
    converted_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT carts_converted_dated CHECK ((status = 'converted') = (converted_at IS NOT NULL))
);

CREATE TABLE cart_items (
    cart_id    uuid          NOT NULL REFERENCES carts (id),
    product_id bigint        NOT NULL REFERENCES products (id),
    quantity   integer       NOT NULL CHECK (quantity > 0),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    created_at timestamptz   NOT NULL DEFAULT now(),
    updated_at timestamptz   NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

CREATE TABLE orders (
    id              bigint        PRIMARY KEY,
    user_id         bigint        NOT NULL REFERENCES users (id),
    session_id      uuid          REFERENCES sessions (id),
    cart_id         uuid          REFERENCES carts (id),
    status          text          NOT NULL CHECK (status IN
                        ('placed', 'shipped', 'delivered', 'cancelled',
                         'refunded', 'partially_refunded')),
    currency        char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    payment_method  text          NOT NULL CHECK (payment_method IN
                        ('card', 'paypal', 'apple_pay', 'google_pay', 'gift_card')),
    subtotal        numeric(12,2) NOT NULL CHECK (subtotal >= 0),
    discount        numeric(12,2) NOT NULL DEFAULT 0 CHECK (discount >= 0 AND discount <= subtotal),
    shipping        numeric(12,2) NOT NULL DEFAULT 0 CHECK (shipping >= 0),
    tax             numeric(12,2) NOT NULL DEFAULT 0 CHECK (tax >= 0),
    total           numeric(12,2) NOT NULL CHECK (total >= 0),
    refunded_amount numeric(12,2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0),
    placed_at       timestamptz   NOT NULL,
    refunded_at     timestamptz,
    created_at      timestamptz   NOT NULL DEFAULT now(),
    updated_at      timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT orders_total_adds_up CHECK (total = subtotal - discount + shipping + tax),
    CONSTRAINT orders_refund_within_total CHECK (refunded_amount <= total),
    CONSTRAINT orders_refund_dated CHECK ((refunded_amount > 0) = (refunded_at IS NOT NULL))
);

CREATE TABLE order_items (
    id         bigint        PRIMARY KEY,
    order_id   bigint        NOT NULL REFERENCES orders (id),
    product_id bigint        NOT NULL REFERENCES products (id),
    quantity   integer       NOT NULL CHECK (quantity > 0),
    unit_price numeric(12,2) NOT NULL CHECK (unit_price >= 0),
    line_total numeric(12,2) NOT NULL CHECK (line_total >= 0),
    created_at timestamptz   NOT NULL DEFAULT now(),
    updated_at timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (order_id, product_id),
    CONSTRAINT order_items_line_total_adds_up CHECK (line_total = quantity * unit_price)
);

CREATE TABLE support_tickets (
    id                 bigint      PRIMARY KEY,
    user_id            bigint      NOT NULL REFERENCES users (id),
    order_id           bigint      REFERENCES orders (id),
    category           text        NOT NULL CHECK (category IN
                           ('delivery', 'product_quality', 'payment', 'return',
                            'account', 'other')),
    priority           text        NOT NULL CHECK (priority IN ('low', 'normal', 'high')),
    status             text        NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
    subject            text        NOT NULL,
    satisfaction_score smallint    CHECK (satisfaction_score BETWEEN 1 AND 5),
    opened_at          timestamptz NOT NULL,
    resolved_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT support_tickets_resolved_after_opened
        CHECK (resolved_at IS NULL OR resolved_at >= opened_at)
);

-- Access paths (documented in docs/schema.md).
CREATE INDEX categories_parent_idx        ON categories (parent_id);
CREATE INDEX products_category_idx        ON products (category_id);
CREATE INDEX inventory_movements_product_time_idx ON inventory_movements (product_id, occurred_at);
CREATE INDEX sessions_user_started_idx    ON sessions (user_id, started_at);
CREATE INDEX sessions_started_idx         ON sessions (started_at);
CREATE INDEX carts_session_idx            ON carts (session_id);
CREATE INDEX carts_user_idx               ON carts (user_id);
CREATE INDEX orders_user_placed_idx       ON orders (user_id, placed_at);
CREATE INDEX orders_placed_idx            ON orders (placed_at);
CREATE INDEX order_items_product_idx      ON order_items (product_id);
CREATE INDEX support_tickets_user_idx     ON support_tickets (user_id, opened_at);
CREATE INDEX support_tickets_order_idx    ON support_tickets (order_id);

-- Incremental extraction reads WHERE updated_at > watermark on every table.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['users', 'categories', 'products', 'inventory',
                             'inventory_movements', 'sessions', 'carts', 'cart_items',
                             'orders', 'order_items', 'support_tickets']
    LOOP
        EXECUTE format('CREATE INDEX %I ON %I (updated_at)', t || '_updated_at_idx', t);
        EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE ON %I
                        FOR EACH ROW EXECUTE FUNCTION set_updated_at()', t || '_set_updated_at', t);
    END LOOP;
END;
$$;
