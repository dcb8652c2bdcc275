"""GET /v1/recommendations on Powertools' API Gateway HTTP API (payload v2.0) resolver.

Routing, validation errors and the response shape live here; the Lambda and the local API
server build the same app over their own database connection. Bad parameters answer 400
naming each one; an unknown user or product is served from the fallbacks and the response
says so in `degraded`; an unreachable database answers 503 with Retry-After.
"""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from lambdas.recommendations.blend import Recommendation, recommend
from lambdas.recommendations.database import DatabaseUnavailableError, ReadOnlyDatabase
from lambdas.recommendations.query import QueryError, RecommendationQuery
from lambdas.recommendations.store import Lookup, look_up

logger = logging.getLogger(__name__)

RECOMMENDATIONS_PATH = "/v1/recommendations"
JSON_MEDIA_TYPE = "application/json"
RETRY_AFTER_S = 5
# Answers are personal and change with every view: no cache may keep them.
_NO_STORE = {"Cache-Control": "no-store"}


def error_response(
    status: int, error: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        status_code=status,
        content_type=JSON_MEDIA_TYPE,
        body={"error": error, "message": message},
        headers={**_NO_STORE, **(headers or {})},
    )


def response_body(
    query: RecommendationQuery, lookup: Lookup, items: list[Recommendation]
) -> dict[str, Any]:
    run = lookup.batch_run
    return {
        "visitor": {"user_id": query.user_id, "anonymous_id": query.anonymous_id},
        "product_id": query.product_id,
        "limit": query.limit,
        "batch_run": {"run_id": run.run_id, "as_of": run.as_of.isoformat()} if run else None,
        "degraded": list(lookup.degraded),
        "items": [
            {
                "rank": rank,
                "product_id": item.product.product_id,
                "name": item.product.name,
                "category_id": item.product.category_id,
                "category_name": item.product.category_name,
                "source": item.source,
                "reason": {
                    "kind": item.reason.kind,
                    "text": item.reason.text,
                    "product_id": item.reason.product_id,
                    "category_id": item.reason.category_id,
                },
            }
            for rank, item in enumerate(items, start=1)
        ],
    }


def create_app(database: ReadOnlyDatabase) -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver()

    @app.get(RECOMMENDATIONS_PATH)
    def recommendations() -> Response:
        query = RecommendationQuery.parse(app.current_event.query_string_parameters)
        lookup = database.read(lambda conn: look_up(conn, query, query.limit))
        items = recommend(lookup.evidence, query.limit)
        return Response(
            status_code=200,
            content_type=JSON_MEDIA_TYPE,
            body=response_body(query, lookup, items),
            headers=_NO_STORE,
        )

    @app.exception_handler(QueryError)
    def bad_query(error: QueryError) -> Response:
        return error_response(400, "bad_request", str(error))

    @app.exception_handler(DatabaseUnavailableError)
    def unavailable(error: DatabaseUnavailableError) -> Response:
        logger.error("database unavailable, answering 503: %s", error)
        return error_response(
            503,
            "unavailable",
            "recommendations are unavailable; retry later",
            {"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.not_found
    def no_route(_: NotFoundError) -> Response:
        path = app.current_event.path
        if path != RECOMMENDATIONS_PATH:
            return error_response(404, "not_found", f"no resource at {path}")
        method = app.current_event.http_method
        return error_response(
            405, "method_not_allowed", f"{path} takes GET, not {method}", {"Allow": "GET"}
        )

    return app
