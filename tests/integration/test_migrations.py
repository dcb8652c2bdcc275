"""Migrations on a real PostgreSQL: apply, idempotence, atomic failure, constraints."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from contracts.oltp.migrator import (
    MIGRATIONS_DIR,
    MigrationError,
    applied_versions,
    apply_migrations,
    discover_migrations,
)

pytestmark = pytest.mark.integration

OLTP_TABLES = {
    "users",
    "categories",
    "products",
    "inventory",
    "inventory_movements",
    "sessions",
    "carts",
    "cart_items",
    "orders",
    "order_items",
    "support_tickets",
}


def _tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return {r[0] for r in rows}


def _schema_fingerprint(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            SELECT table_schema, table_name, column_name, data_type, is_nullable
            FROM information_schema.columns
            WHERE table_schema IN ('public', 'synthetic')
            ORDER BY 1, 2, 3
            """
        ).fetchall()


def test_applies_every_migration_on_an_empty_database(empty_database: str) -> None:
    applied = apply_migrations(empty_database)

    assert applied == [m.filename for m in discover_migrations()]
    assert _tables(empty_database) == OLTP_TABLES | {"schema_migrations"}
    assert applied_versions(empty_database) == [m.version for m in discover_migrations()]


def test_second_run_changes_nothing(empty_database: str) -> None:
    apply_migrations(empty_database)
    before = _schema_fingerprint(empty_database)

    assert apply_migrations(empty_database) == []
    assert _schema_fingerprint(empty_database) == before


def test_every_table_has_created_and_updated_at(migrated_database: str) -> None:
    with psycopg.connect(migrated_database) as conn:
        rows = conn.execute(
            """
            SELECT table_name, array_agg(column_name::text)
            FROM information_schema.columns
            WHERE table_schema = 'public' AND column_name IN ('created_at', 'updated_at')
            GROUP BY table_name
            """
        ).fetchall()
    stamped = {name for name, columns in rows if sorted(columns) == ["created_at", "updated_at"]}
    assert stamped == OLTP_TABLES


def test_failing_migration_rolls_back_everything_and_names_the_file(
    empty_database: str, tmp_path: Path
) -> None:
    for migration in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(migration, tmp_path)
    (tmp_path / "V900__broken.sql").write_text(
        "CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;"
    )

    with pytest.raises(MigrationError) as raised:
        apply_migrations(empty_database, directory=tmp_path)

    assert raised.value.filename == "V900__broken.sql"
    assert "no_such_table" in raised.value.reason
    # Nothing from the run survived: not the good migrations before it, not its first statement.
    assert _tables(empty_database) == set()


def test_edited_applied_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    for migration in MIGRATIONS_DIR.glob("*.sql"):
        shutil.copy(migration, tmp_path)
    apply_migrations(empty_database, directory=tmp_path)
    edited = tmp_path / "V002__synthetic_ground_truth.sql"
    edited.write_text(edited.read_text() + "\n-- edited\n")

    with pytest.raises(MigrationError, match="changed after it was applied"):
        apply_migrations(empty_database, directory=tmp_path)


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    (tmp_path / "add_users.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"V001__snake_case_name\.sql"):
        discover_migrations(tmp_path)


def _insert_user(conn: psycopg.Connection, user_id: int = 1) -> None:
    conn.execute(
        """
        INSERT INTO users (id, email, first_name, last_name, country_code, city,
                           acquisition_channel, signed_up_at)
        VALUES (%s, %s, 'Ada', 'L', 'GB', 'London', 'direct', now())
        """,
        (user_id, f"user{user_id}@example.com"),
    )


def _insert_catalog(conn: psycopg.Connection) -> None:
    conn.execute("INSERT INTO categories (id, name, slug) VALUES (1, 'Books', 'books')")
    conn.execute(
        "INSERT INTO products (id, sku, name, category_id, brand, price, cost)"
        " VALUES (1, 'SKU-1', 'A book', 1, 'Acme', 12.50, 6.00)"
    )


@pytest.mark.parametrize(
    ("statement", "constraint_hint"),
    [
        (
            "INSERT INTO products (id, sku, name, category_id, brand, price, cost)"
            " VALUES (2, 'SKU-2', 'x', 1, 'Acme', -1, 0)",
            "products_price_check",
        ),
        (
            "INSERT INTO inventory (product_id, on_hand, reorder_point, reorder_quantity,"
            " lead_time_days) VALUES (1, -5, 10, 20, 7)",
            "inventory_on_hand_check",
        ),
        (
            "INSERT INTO orders (id, user_id, status, currency, payment_method, subtotal,"
            " total, placed_at) VALUES (1, 1, 'lost', 'USD', 'card', 10, 10, now())",
            "orders_status_check",
        ),
        (
            "INSERT INTO orders (id, user_id, status, currency, payment_method, subtotal,"
            " shipping, total, placed_at) VALUES (1, 1, 'placed', 'USD', 'card', 10, 5, 10, now())",
            "orders_total_adds_up",
        ),
        (
            "INSERT INTO orders (id, user_id, status, currency, payment_method, subtotal,"
            " total, placed_at) VALUES (1, 999, 'placed', 'USD', 'card', 10, 10, now())",
            "orders_user_id_fkey",
        ),
        (
            "INSERT INTO categories (id, parent_id, name, slug) VALUES (5, 5, 'Loop', 'loop')",
            "categories_not_own_parent",
        ),
        (
            "INSERT INTO support_tickets (id, user_id, category, priority, status, subject,"
            " opened_at) VALUES (1, 1, 'delivery', 'urgent', 'open', 's', now())",
            "support_tickets_priority_check",
        ),
    ],
)
def test_constraints_reject_bad_rows(
    migrated_database: str, statement: str, constraint_hint: str
) -> None:
    with psycopg.connect(migrated_database) as conn:
        _insert_user(conn)
        _insert_catalog(conn)
        with pytest.raises(psycopg.errors.IntegrityError) as raised:
            conn.execute(statement)
    assert raised.value.diag.constraint_name == constraint_hint


def test_updated_at_moves_on_update(migrated_database: str) -> None:
    with psycopg.connect(migrated_database, autocommit=True) as conn:
        _insert_user(conn)
        conn.execute("UPDATE users SET updated_at = '2020-01-01' WHERE id = 1")
        conn.execute("UPDATE users SET city = 'Leeds' WHERE id = 1")
        row = conn.execute("SELECT updated_at > '2021-01-01' FROM users WHERE id = 1").fetchone()
    assert row == (True,)
