"""Generate the synthetic store into PostgreSQL and the clickstream file, day by day.

Each day is planned in bulk with numpy (who visits, when, why), then its visits are
simulated one by one in start order by the session behaviour model, and their rows and
events streamed out. Only per-customer state arrays, the catalog, the in-flight after-sales
visits and the events of overlapping visits are held in memory, whatever the size.

An optional history precedes the window: the same customers, personas, churn process and
visits, played by the same behaviour model with draws of its own (so a run without history
is unchanged), but only the orders, order lines and tickets are kept. Sessions, carts and
events are not: the clickstream and the real-time path only need the window, and skipping
their rows keeps a year of history cheap. History orders do not move today's stock: the
inventory ledger opens on the window's first day.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from itertools import count
from pathlib import Path

import numpy as np
import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from contracts.oltp.migrator import apply_migrations
from data_generators.catalog import DEPARTMENTS, Catalog, catalog_size
from data_generators.churn import DECLINE_AFTER_ISSUE, DECLINE_DAYS
from data_generators.inventory import Inventory
from data_generators.orders import CURRENCY, OrderRecord, cents_text
from data_generators.personas import PERSONA_NAMES
from data_generators.population import (
    SIGNUP_LOOKBACK_DAYS,
    Population,
    build_population,
    user_rows,
)
from data_generators.randomness import KeyedUuids, RandomStream
from data_generators.records import SessionRecord, TicketRecord
from data_generators.session import CountingIds, SessionSimulator
from data_generators.settings import GenerationResult, GenerationSettings
from data_generators.sink import TABLE_COLUMNS, CopyBatches, EventLog, RowSink
from data_generators.taste import Complements, Tastes
from data_generators.timeline import (
    MS_PER_DAY,
    MS_PER_HOUR,
    epoch_ms,
    iso_utc,
)
from data_generators.visitors import Visitor, anonymous_visitor, customer_visitor
from data_generators.visits import ANONYMOUS, VisitKind, plan_day

CART_ABANDONED_AFTER_MS = 24 * MS_PER_HOUR
TICKET_PENDING_AFTER_MS = 6 * MS_PER_HOUR
# Demand forecast used to size stock: units sold per customer per day (measured on runs of
# the model; see docs/data_generation.md).
UNITS_PER_CUSTOMER_DAY = 0.02

# Rows the history writes; every other table holds the window only.
HISTORY_TABLES = ("orders", "order_items", "support_tickets")

# What a reset empties: everything this generator writes, nothing else.
GENERATED_TABLES = (
    "users", "categories", "products", "inventory", "inventory_movements", "sessions", "carts",
    "cart_items", "orders", "order_items", "support_tickets",
    "synthetic.customer_profiles", "synthetic.generation_runs",
    "synthetic.customer_affinities", "synthetic.complement_pairs",
    "synthetic.consumable_categories",
)  # fmt: skip


class StoreNotEmptyError(RuntimeError):
    """The target already holds data and the caller did not ask to replace it."""


class _OpenShelves:
    """Stock as the history sees it: never short, since history orders leave today's stock
    (and its ledger, which opens with the window) alone."""

    def available(self, product_id: int) -> int:
        return 2**31 - 1


def populated_tables(conn: psycopg.Connection) -> list[str]:
    """Generated tables that hold at least one row."""
    return [
        table
        for table in GENERATED_TABLES
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]  # noqa: S608 table names from the GENERATED_TABLES constant
    ]


def generate_store(
    settings: GenerationSettings,
    database_url: str,
    *,
    events_out: Path | None = None,
    reset: bool = False,
    progress: bool = True,
) -> GenerationResult:
    """Write a coherent synthetic shop and its clickstream; refuses to overwrite unless reset."""
    started = time.perf_counter()
    apply_migrations(database_url)
    log: EventLog | None = None
    try:
        with psycopg.connect(database_url) as conn:
            filled = populated_tables(conn)
            if filled and not reset:
                raise StoreNotEmptyError(
                    f"the database already holds generated data ({len(filled)} tables have rows,"
                    f" {filled[0]} among them); pass --reset to replace it"
                )
            if events_out is not None and events_out.exists() and not reset:
                raise StoreNotEmptyError(f"{events_out} already exists; pass --reset to replace it")
            if reset:
                conn.execute(f"TRUNCATE {', '.join(GENERATED_TABLES)}")
            batches = CopyBatches(conn)
            log = EventLog(events_out)
            store_run = StoreRun(settings, batches, log)
            store_run.run(progress)
            log.close()
            batches.flush()
            conn.execute(
                "INSERT INTO synthetic.generation_runs"
                " (seed, users, days, start_date, history_days) VALUES (%s, %s, %s, %s, %s)",
                (
                    settings.seed,
                    settings.users,
                    settings.days,
                    settings.start_date,
                    settings.history_days,
                ),
            )
    except BaseException:
        if log is not None:
            log.discard()
        raise
    log.publish()
    rows = {table: batches.counts.get(table, 0) for table in TABLE_COLUMNS}
    rows["synthetic.generation_runs"] = 1
    return GenerationResult(
        rows_per_table=rows,
        history_rows_per_table=store_run.history_rows,
        events_per_type=dict(sorted(log.counts.items())),
        events_path=events_out,
        elapsed_seconds=round(time.perf_counter() - started, 3),
    )


class StoreRun:
    """One generation: the world's state and the day loop, writing to any row sink."""

    def __init__(self, settings: GenerationSettings, batches: RowSink, log: EventLog) -> None:
        self.settings = settings
        self.batches = batches
        self.log = log
        self.start_ms = epoch_ms(settings.start_date)
        self.end_ms = epoch_ms(settings.end_date)
        # Streams are the seed's children by position: taste (the eighth) came later, and
        # spawning one more leaves the first seven as they were.
        seeds = np.random.SeedSequence(settings.seed).spawn(8)
        catalog_rng, people_rng, names_rng, stock_rng, self.daily_rng = (
            np.random.Generator(np.random.PCG64(s)) for s in seeds[:5]
        )
        self.stream = RandomStream(seeds[5])
        self.device_ids = KeyedUuids(people_rng.bytes(16))
        self.catalog = Catalog(catalog_rng, catalog_size(settings.users))
        self.people: Population = build_population(
            people_rng,
            settings.users,
            settings.days,
            self.start_ms,
            len(DEPARTMENTS),
            settings.history_days,
        )
        self.names_rng = names_rng
        self.inventory = Inventory(
            stock_rng,
            self.catalog,
            max(1.0, settings.users * UNITS_PER_CUSTOMER_DAY),
            self.start_ms,
        )
        taste_rng = np.random.Generator(np.random.PCG64(seeds[7]))
        self.complements = Complements(taste_rng, self.catalog)
        self.tastes = Tastes(
            taste_rng,
            self.catalog,
            self.people.preferred_department,
            (epoch_ms(settings.history_start_date), self.end_ms),
        )
        self.order_item_ids = count(1)
        ids = CountingIds()  # shared, so order and ticket ids run in time order through both
        self.simulator = SessionSimulator(
            self.catalog, self.stream, ids, self.inventory, self.complements
        )
        history_plan_seed, history_stream_seed = seeds[6].spawn(2)
        self.history_rng = np.random.Generator(np.random.PCG64(history_plan_seed))
        self.history_simulator = SessionSimulator(
            self.catalog, RandomStream(history_stream_seed), ids, _OpenShelves(), self.complements
        )
        self.history_rows: dict[str, int] = {}
        self.aftercare_due: dict[int, list] = defaultdict(list)

    def run(self, progress: bool) -> None:
        self._write_reference_data()
        history_days, days = self.settings.history_days, self.settings.days
        with _progress_bar(enabled=progress) as bar:
            task = bar.add_task("Generating", total=history_days + days)
            for day in range(-history_days, 0):
                self._simulate_history_day(day)
                bar.advance(task)
            self.batches.flush()
            self.history_rows = {table: self.batches.counts[table] for table in HISTORY_TABLES}
            for day in range(days):
                self._simulate_day(day)
                bar.advance(task)
        self.inventory.shelve_returns()
        self.batches.extend("inventory", self.inventory.rows())
        self.batches.extend("inventory_movements", self.inventory.drain_movements())
        self._write_profiles()

    # -- reference data -----------------------------------------------------------------

    def _write_reference_data(self) -> None:
        catalog_created = iso_utc(self.start_ms - (SIGNUP_LOOKBACK_DAYS + 30) * MS_PER_DAY)
        for category in self.catalog.categories:
            self.batches.add(
                "categories",
                (category.id, category.parent_id, category.name, category.slug,
                 catalog_created, catalog_created),
            )  # fmt: skip
        catalog = self.catalog
        for index in range(catalog.size):
            product_id = index + 1
            self.batches.add(
                "products",
                (
                    product_id,
                    f"SKU-{catalog.category_list[index]:03d}-{product_id:06d}",
                    catalog.names[index],
                    catalog.category_list[index],
                    catalog.brands[index],
                    cents_text(catalog.price_list[index]),
                    cents_text(int(catalog.cost_cents[index])),
                    "discontinued" if catalog.discontinued[index] else "active",
                    catalog_created,
                    catalog_created,
                ),
            )
        for row in user_rows(self.names_rng, self.people):
            self.batches.add("users", row)
        self.batches.extend("synthetic.complement_pairs", list(self.complements.rows()))
        self.batches.extend(
            "synthetic.consumable_categories",
            sorted(self.tastes.consumable_days.items()),
        )

    def _write_profiles(self) -> None:
        people, churn = self.people, self.people.churn
        for index in range(people.size):
            churn_day = int(churn.churn_day[index])
            signed_up = iso_utc(int(people.signup_ms[index]))
            churned = churn_day < self.settings.days
            churned_at = iso_utc(self.start_ms + churn_day * MS_PER_DAY) if churned else None
            self.batches.add(
                "synthetic.customer_profiles",
                (index + 1, PERSONA_NAMES[people.persona[index]], churned, churned_at,
                 signed_up, churned_at or signed_up),
            )  # fmt: skip
        self.batches.extend(
            "synthetic.customer_affinities",
            list(self.tastes.affinity_rows(iter(range(1, people.size + 1)))),
        )

    # -- one day ------------------------------------------------------------------------

    def _simulate_day(self, day: int) -> None:
        """A window day: every visit, with its rows, events and stock movements."""
        day_ms = self.start_ms + day * MS_PER_DAY
        self.inventory.start_day(day, day_ms)
        for start, record, user in self._visits(day, self.daily_rng, self.simulator, True):
            self.log.release_before(start)
            self._store(record, user)
        self.batches.extend("inventory_movements", self.inventory.drain_movements())
        self.inventory.end_day(day)

    def _simulate_history_day(self, day: int) -> None:
        """A day before the window: customers' visits, of which orders and tickets are kept."""
        for _, record, user in self._visits(day, self.history_rng, self.history_simulator, False):
            if record.order is not None:
                self._store_order(record.order, user, in_history=True)
            self._store_tickets(record.tickets)

    def _visits(
        self,
        day: int,
        rng: np.random.Generator,
        simulator: SessionSimulator,
        with_anonymous: bool,
    ) -> Iterator[tuple[int, SessionRecord, int]]:
        """The day's visits played in start order: (start ms, record, user index)."""
        day_ms = self.start_ms + day * MS_PER_DAY
        aftercare = self.aftercare_due.pop(day, [])
        plan = plan_day(
            rng, self.people, day, day_ms, [(p.user_id - 1, p.visit_start_ms) for p in aftercare]
        )
        churn = self.people.churn
        known = np.maximum(plan.users, 0)
        engagement = churn.engagement(day, known).tolist()
        declining = (churn.onset_day[known] <= day).tolist()
        stream = simulator.stream
        for i in plan.in_start_order():
            start, user, kind = int(plan.starts[i]), int(plan.users[i]), int(plan.kinds[i])
            if user == ANONYMOUS:
                if with_anonymous:
                    yield start, simulator.browse(anonymous_visitor(stream), start), user
                continue
            visitor = self._customer_visitor(user, start, engagement[i], declining[i], stream)
            if kind == VisitKind.AFTERCARE:
                record = simulator.aftercare(visitor, aftercare[int(plan.refs[i])])
            elif kind == VisitKind.COMPLAINT:
                record = simulator.complaint(visitor, start)
            else:
                record = simulator.browse(visitor, start, signup=kind == VisitKind.SIGNUP)
                self.tastes.visited(user, start)
            yield start, record, user

    def _customer_visitor(
        self, user: int, start_ms: int, engagement: float, declining: bool, stream: RandomStream
    ) -> Visitor:
        churn = self.people.churn
        first_day = self.start_ms // MS_PER_DAY
        onset, quiet = int(churn.onset_day[user]), int(churn.churn_day[user])
        decline = (first_day + onset, first_day + quiet) if onset < self.settings.days else None
        return customer_visitor(
            self.people,
            self.device_ids,
            stream,
            user,
            engagement=engagement,
            declining=declining,
            decline_window=decline,
            taste=self.tastes.at(user, start_ms),
            intent=self.tastes.intent(user),
            owned=self.tastes.owned_by(user),
        )

    # -- rows -----------------------------------------------------------------------------

    def _store(self, record: SessionRecord, user: int) -> None:
        for occurred_ms, event in record.events:
            self.log.add(occurred_ms, event)
        visitor, utm = record.visitor, record.utm or {}
        started, ended = iso_utc(record.started_ms), iso_utc(record.ended_ms)
        self.batches.add(
            "sessions",
            (
                record.session_id, visitor.user_id, visitor.anonymous_id, visitor.device.channel,
                visitor.device.type, record.traffic_source, record.landing_page,
                record.exit_page, record.referrer, utm.get("source"), utm.get("medium"),
                utm.get("campaign"), record.page_views, len(record.events), started, ended,
                started, ended,
            ),
        )  # fmt: skip
        if record.cart is not None:
            self._store_cart(record)
        if record.order is not None:
            self._store_order(record.order, user)
        self._store_tickets(record.tickets)
        if record.refund is not None and record.refund.returned:
            refund = record.refund
            self.inventory.receive_return(refund.returned, refund.refunded_ms, refund.order_id)

    def _store_tickets(self, tickets: list[TicketRecord]) -> None:
        """Ticket rows as of the window's end."""
        for ticket in tickets:
            resolved_ms = ticket.opened_ms + ticket.resolve_after_ms
            opened = iso_utc(ticket.opened_ms)
            if resolved_ms <= self.end_ms:
                status = "closed" if ticket.closed else "resolved"
                resolved, score = iso_utc(resolved_ms), ticket.satisfaction
            else:
                waiting = self.end_ms - ticket.opened_ms > TICKET_PENDING_AFTER_MS
                status, resolved, score = ("pending" if waiting else "open"), None, None
            self.batches.add(
                "support_tickets",
                (ticket.ticket_id, ticket.user_id, ticket.order_id, ticket.category,
                 ticket.priority, status, ticket.subject, score, opened, resolved, opened,
                 resolved or opened),
            )  # fmt: skip

    def _store_cart(self, record: SessionRecord) -> None:
        cart = record.cart
        if cart.converted_ms is not None:
            status = "converted"
        elif self.end_ms - cart.updated_ms > CART_ABANDONED_AFTER_MS:
            status = "abandoned"
        else:
            status = "open"
        converted = None if cart.converted_ms is None else iso_utc(cart.converted_ms)
        self.batches.add(
            "carts",
            (cart.cart_id, record.visitor.user_id, record.session_id, status, converted,
             iso_utc(cart.created_ms), iso_utc(cart.updated_ms)),
        )  # fmt: skip
        for line in cart.lines.values():
            self.batches.add(
                "cart_items",
                (cart.cart_id, line.product_id, line.quantity, cents_text(line.unit_cents),
                 iso_utc(line.added_ms), iso_utc(line.updated_ms)),
            )  # fmt: skip

    def _store_order(self, order: OrderRecord, user: int, *, in_history: bool = False) -> None:
        """The order row as of the window's end, its lines, its stock movements (none for a
        history order, which also has no session or cart row to point at)."""
        stream = self.history_simulator.stream if in_history else self.stream
        visit = (None, None) if in_history else (order.session_id, order.cart_id)
        if not in_history:
            self.inventory.take_order(order)
        self.people.last_order_id[user] = order.order_id
        self.tastes.ordered(user, order, self.complements)
        totals, plan = order.totals, order.aftercare
        refund_cents, refunded_ms = 0, None
        if plan is not None:
            visit_day = (plan.visit_start_ms - self.start_ms) // MS_PER_DAY
            churn = self.people.churn
            churn_day = int(churn.churn_day[user])
            if visit_day < min(self.settings.days, churn_day):
                # A history order's return, even one made in the window, restocks nothing.
                self.aftercare_due[visit_day].append(
                    replace(plan, returned=()) if in_history else plan
                )
                refund_cents, refunded_ms = plan.refund_cents, plan.refunded_at_ms
                churn.book_visit(user, visit_day)
                if stream.chance(DECLINE_AFTER_ISSUE.get(plan.kind, 0.0)):
                    span = DECLINE_DAYS[1] - DECLINE_DAYS[0] + 1
                    churn.start_decline(user, visit_day, DECLINE_DAYS[0] + stream.below(span))
        delivered_ms = order.placed_ms + order.delivery_days * MS_PER_DAY
        if refund_cents:
            status = "refunded" if refund_cents == totals.total else "partially_refunded"
            updated_ms = refunded_ms
        elif delivered_ms <= self.end_ms:
            status, updated_ms = "delivered", delivered_ms
        elif order.placed_ms + MS_PER_DAY <= self.end_ms:
            status, updated_ms = "shipped", order.placed_ms + MS_PER_DAY
        else:
            status, updated_ms = "placed", order.placed_ms
        placed = iso_utc(order.placed_ms)
        self.batches.add(
            "orders",
            (
                order.order_id, order.user_id, *visit, status, CURRENCY,
                order.payment_method, cents_text(totals.subtotal), cents_text(totals.discount),
                cents_text(totals.shipping), cents_text(totals.tax), cents_text(totals.total),
                cents_text(refund_cents), placed,
                None if refunded_ms is None else iso_utc(refunded_ms), placed,
                iso_utc(updated_ms),
            ),
        )  # fmt: skip
        for line in order.lines:
            self.batches.add(
                "order_items",
                (next(self.order_item_ids), order.order_id, line.product_id, line.quantity,
                 cents_text(line.unit_cents), cents_text(line.line_cents), placed, placed),
            )  # fmt: skip


def _progress_bar(enabled: bool) -> Progress:
    """A bar over days on stderr, so stdout stays clean for data."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
    )
