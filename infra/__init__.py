"""Local stand-ins for what AWS runs: moto server, tables from template.yaml, the DynamoDB
Streams poller with Lambda event-source-mapping semantics, and the EventBridge scheduler.

Nothing here ships to Lambda; the product code is the same on both sides and only the
``AWS_ENDPOINT_URL_*`` variables differ.
"""
