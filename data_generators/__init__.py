"""The synthetic store: customers, catalog, behaviour, orders, tickets and clickstream."""

from data_generators.settings import GenerationResult, GenerationSettings
from data_generators.store import StoreNotEmptyError, generate_store
from data_generators.summary import StoreSummary, summarize_store

__all__ = [
    "GenerationResult",
    "GenerationSettings",
    "StoreNotEmptyError",
    "StoreSummary",
    "generate_store",
    "summarize_store",
]
