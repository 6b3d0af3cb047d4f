"""Tokens -> USD with a pinned price table (USD per million tokens).

Prices as published by Anthropic for each model family; a model is matched by its name
with any date suffix removed. An unknown model gives None, never $0.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PRICE_TABLE_VERSION = "2026-11-01"
_MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True)
class Price:
    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal


def _p(i: str, o: str, w5: str, w1: str, r: str) -> Price:
    return Price(Decimal(i), Decimal(o), Decimal(w5), Decimal(w1), Decimal(r))


# Longest prefix wins, so "claude-opus-4-5" is found before "claude-opus-4".
PRICES: dict[str, Price] = {
    "claude-opus-4-5": _p("5", "25", "6.25", "10", "0.50"),
    "claude-opus-4-1": _p("15", "75", "18.75", "30", "1.50"),
    "claude-opus-4": _p("15", "75", "18.75", "30", "1.50"),
    "claude-sonnet-4-5": _p("3", "15", "3.75", "6", "0.30"),
    "claude-sonnet-4": _p("3", "15", "3.75", "6", "0.30"),
    "claude-haiku-4-5": _p("1", "5", "1.25", "2", "0.10"),
    "claude-3-7-sonnet": _p("3", "15", "3.75", "6", "0.30"),
    "claude-3-5-sonnet": _p("3", "15", "3.75", "6", "0.30"),
    "claude-3-5-haiku": _p("0.80", "4", "1", "1.6", "0.08"),
    "claude-3-opus": _p("15", "75", "18.75", "30", "1.50"),
    "claude-3-haiku": _p("0.25", "1.25", "0.30", "0.50", "0.03"),
}
_DATE_SUFFIX = re.compile(r"-(\d{8}|latest)$")


def price_for(model: str | None) -> Price | None:
    if not model:
        return None
    name = _DATE_SUFFIX.sub("", model.strip().lower())
    name = name.removeprefix("anthropic/").removeprefix("anthropic.")
    for prefix in sorted(PRICES, key=len, reverse=True):
        if name == prefix or name.startswith(prefix + "-") or name.startswith(prefix + "@"):
            return PRICES[prefix]
    return None


def is_known_model(model: str | None) -> bool:
    return price_for(model) is not None


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def cost_from_usage(model: str | None, usage: Mapping[str, Any] | None) -> Decimal | None:
    """USD for one API response's usage, or None when the model is unknown.

    Cache writes are split into 5-minute and 1-hour parts when `cache_creation` says so;
    otherwise all of `cache_creation_input_tokens` is priced as 5-minute writes.
    """
    price = price_for(model)
    if price is None:
        return None
    usage = usage or {}
    split = usage.get("cache_creation") if isinstance(usage.get("cache_creation"), Mapping) else None
    total_write = _int(usage.get("cache_creation_input_tokens"))
    if split:
        w1h = _int(split.get("ephemeral_1h_input_tokens"))
        w5m = _int(split.get("ephemeral_5m_input_tokens"))
        if w1h + w5m < total_write:
            w5m = total_write - w1h
    else:
        w1h, w5m = 0, total_write
    cost = (
        _int(usage.get("input_tokens")) * price.input
        + _int(usage.get("output_tokens")) * price.output
        + w5m * price.cache_write_5m
        + w1h * price.cache_write_1h
        + _int(usage.get("cache_read_input_tokens")) * price.cache_read
    ) / _MILLION
    return cost.quantize(COST_QUANTUM)
