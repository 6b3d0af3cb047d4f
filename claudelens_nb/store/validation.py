"""A database's `$jsonSchema` rejection (upstream ClaudeLens's validators) said in words."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

DOCUMENT_FAILED_VALIDATION = 121


def _rules(details: Mapping[str, Any], prefix: str = "") -> Iterator[str]:
    for rule in details.get("schemaRulesNotSatisfied", []) or []:
        op = rule.get("operatorName")
        if op == "required":
            for name in rule.get("missingProperties", []):
                yield f"'{prefix}{name}' is required"
        elif op == "properties":
            for prop in rule.get("propertiesNotSatisfied", []):
                name = f"{prefix}{prop.get('propertyName')}"
                for d in prop.get("details", []) or [{}]:
                    if d.get("operatorName") == "bsonType":
                        wanted = (d.get("specifiedAs") or {}).get("bsonType")
                        yield f"'{name}' must be {wanted}, not {d.get('consideredType')}"
                    elif d.get("schemaRulesNotSatisfied"):
                        yield from _rules(d, f"{name}.")
                    else:
                        yield f"'{name}' breaks the rule {d.get('operatorName')}"
        elif op:
            yield f"breaks the rule {op}"


def describe(error: Mapping[str, Any]) -> str:
    """One write error (from WriteError.details or BulkWriteError's writeErrors) in words."""
    details = (error.get("errInfo") or {}).get("details") or {}
    problems = list(_rules(details))
    text = error.get("errmsg") or "write refused"
    return f"{text}: {'; '.join(problems)}" if problems else text
