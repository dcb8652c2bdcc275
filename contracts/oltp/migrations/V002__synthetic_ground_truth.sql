-- Ground truth the synthetic store knows and a real shop would not: each customer's latent
-- persona and whether (and when) they churned. Kept in its own schema so nothing in the
-- analytics path reads it by accident; tests and model evaluation use it as labels.

CREATE SCHEMA synthetic;

CREATE TABLE synthetic.generation_runs (
    id           bigint      PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
    seed         bigint      NOT NULL,
    users        integer     NOT NULL CHECK (users > 0),
    days         integer     NOT NULL CHECK (days > 0),
    start_date   date        NOT NULL,
    generated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE synthetic.customer_profiles (
    user_id    bigint      PRIMARY KEY REFERENCES users (id),
    persona    text        NOT NULL,
    churned    boolean     NOT NULL,
    churned_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK (churned = (churned_at IS NOT NULL))
);
