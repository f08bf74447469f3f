"""The one place that creates the logger, tracer and metrics of every service.

The service name comes from POWERTOOLS_SERVICE_NAME, set per function in template.yaml.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="OrderChoreography")
