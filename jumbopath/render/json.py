"""The JSON document of ``check`` and ``trace`` (schema 1, documented in the README).

The fields are built by :mod:`jumbopath.schema`, which also reads them back
(``mesh``, ``report``): one serializer, one parser.
"""

from __future__ import annotations

import json

from jumbopath.model import Report
from jumbopath.schema import SCHEMA, report_dict

__all__ = ["SCHEMA", "render_json"]


def render_json(report: Report) -> str:
    """Pretty JSON text of a report."""
    return json.dumps(report_dict(report), indent=2)
