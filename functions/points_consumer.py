"""Visits-table stream consumer: turns recorded visits into points, exactly once.

Lambda event-source-mapping semantics apply (on AWS and in ``infra.poller``): batches of up
to 100 records, at-least-once, retried from the first reported failure. Each record is
parsed individually (Powertools BatchProcessor), then the whole batch is applied in a few
aggregated transactions. If applying fails, every parsed record is reported as failed so
the batch is retried; the ledger's conditional puts make the retry harmless.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ripple import bootstrap
from ripple.domain.model import Visit
from ripple.service.live import publish_changes
from ripple.service.points import apply_visits

logger = Logger(service="ripple-points")
metrics = Metrics(namespace="Ripple", service="points")

__all__ = ["handler"]


def _parse(record: DynamoDBRecord) -> Visit | None:
    if record.event_name is None or record.event_name.name != "INSERT":
        return None  # MODIFY/REMOVE (e.g. TTL expiry) never earn
    image = record.raw_event.get("dynamodb", {}).get("NewImage") or {}
    return bootstrap.visit_from_stream_image(image)


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)
    with processor(records=records, handler=_parse):
        outcomes = processor.process()
    visits = [result for status, result, _ in outcomes if status == "success" and result is not None]
    failures = list(processor.response()["batchItemFailures"])
    if visits:
        try:
            report = apply_visits(bootstrap.services(), visits)
        except Exception:
            logger.exception("applying batch failed; reporting it for retry", extra={"visits": len(visits)})
            failed_ids = {item["itemIdentifier"] for item in failures}
            failures.extend(
                {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                for r in records
                if r.get("dynamodb", {}).get("SequenceNumber") not in failed_ids
            )
            return {"batchItemFailures": failures}
        metrics.add_metric("VisitsApplied", MetricUnit.Count, report.visits)
        metrics.add_metric("LedgerEntriesInserted", MetricUnit.Count, len(report.result.inserted))
        metrics.add_metric("LedgerDuplicatesSkipped", MetricUnit.Count, len(report.result.duplicates))
        logger.info(
            "batch applied",
            extra={
                "records": len(records),
                "visits": report.visits,
                "inserted": len(report.result.inserted),
                "duplicates": len(report.result.duplicates),
                "transactions": report.result.transactions,
            },
        )
        publish_changes(bootstrap.services(), visits, report.result)  # after commit; never raises
    return {"batchItemFailures": failures}
