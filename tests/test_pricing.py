"""The price table: every row, by the model ids Claude Code wrote, the cache lifetimes and the
long-context tier."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claudelens_nb import pricing

# (model id as Claude Code writes it, input, output, 5m write, 1h write, cache read) USD / MTok
MODELS = [
    ("claude-3-haiku-20240307", "0.25", "1.25", "0.30", "0.50", "0.03"),
    ("claude-3-sonnet-20240229", "3", "15", "3.75", "6", "0.30"),
    ("claude-3-opus-20240229", "15", "75", "18.75", "30", "1.50"),
    ("claude-3-5-sonnet-20240620", "3", "15", "3.75", "6", "0.30"),
    ("claude-3-5-sonnet-20241022", "3", "15", "3.75", "6", "0.30"),
    ("claude-3-5-haiku-20241022", "0.80", "4", "1", "1.6", "0.08"),
    ("claude-3-7-sonnet-20250219", "3", "15", "3.75", "6", "0.30"),
    ("claude-sonnet-4-20250514", "3", "15", "3.75", "6", "0.30"),
    ("claude-opus-4-20250514", "15", "75", "18.75", "30", "1.50"),
    ("claude-opus-4-1-20250805", "15", "75", "18.75", "30", "1.50"),
    ("claude-sonnet-4-5-20250929", "3", "15", "3.75", "6", "0.30"),
    ("claude-haiku-4-5-20251001", "1", "5", "1.25", "2", "0.10"),
    ("claude-opus-4-5-20251101", "5", "25", "6.25", "10", "0.50"),
]
LONG_CONTEXT = {"claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929"}
MILLION = {"input_tokens": 1_000_000}


def test_every_row_of_the_table_is_tested() -> None:
    assert {pricing.price_for(m) is not None for m, *_ in MODELS} == {True}
    rows = {prefix for prefix in pricing.PRICES
            if any(m.startswith(prefix + "-") for m, *_ in MODELS
                   if max((p for p in pricing.PRICES if m.startswith(p + "-")), key=len) == prefix)}
    assert rows == set(pricing.PRICES)


@pytest.mark.parametrize(("model", "i", "o", "w5", "w1", "r"), MODELS)
def test_each_kind_of_token(model: str, i: str, o: str, w5: str, w1: str, r: str) -> None:
    """100k tokens of each kind alone, then all together (under the long-context threshold)."""
    k = 100_000
    each = {
        "input_tokens": i, "output_tokens": o, "cache_read_input_tokens": r,
    }
    for field, rate in each.items():
        assert pricing.cost_from_usage(model, {field: k}) == Decimal(rate) / 10
    w5m = {"cache_creation_input_tokens": k}
    assert pricing.cost_from_usage(model, w5m) == Decimal(w5) / 10
    w1h = {"cache_creation_input_tokens": k,
           "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": k}}
    assert pricing.cost_from_usage(model, w1h) == Decimal(w1) / 10
    both = {"input_tokens": 1000, "output_tokens": 2000, "cache_creation_input_tokens": 3000,
            "cache_read_input_tokens": 4000,
            "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000}}
    expected = (1000 * Decimal(i) + 2000 * Decimal(o) + 1000 * Decimal(w5) + 2000 * Decimal(w1)
                + 4000 * Decimal(r)) / 1_000_000
    assert pricing.cost_from_usage(model, both) == expected.quantize(pricing.COST_QUANTUM)
    # The same model undated, as Claude Code and Bedrock / Vertex also spell it.
    undated = model.rsplit("-", 1)[0]
    for name in (undated, f"{undated}@{model.rsplit('-', 1)[1]}", f"anthropic.{model}-v1:0"):
        assert pricing.cost_from_usage(name, both) == pricing.cost_from_usage(model, both), name


@pytest.mark.parametrize(("model", "i", "o", "w5", "w1", "r"), MODELS)
def test_long_context_tier(model: str, i: str, o: str, w5: str, w1: str, r: str) -> None:
    """Above 200k input tokens (cache included) Sonnet 4 / 4.5 bill every token at 2x input and
    1.5x output; every other model keeps its rates."""
    at = {"input_tokens": 100_000, "cache_read_input_tokens": 60_000,
          "cache_creation_input_tokens": 40_000, "output_tokens": 10_000}
    above = dict(at, input_tokens=100_001)
    base = (Decimal(r) * 60_000 + Decimal(w5) * 40_000 + Decimal(o) * 10_000) / 1_000_000
    assert pricing.cost_from_usage(model, at) == base + Decimal(i) / 10
    if model in LONG_CONTEXT:
        long = (Decimal(i) * 2 * 100_001 + Decimal(r) * 2 * 60_000 + Decimal(w5) * 2 * 40_000
                + Decimal(o) * Decimal("1.5") * 10_000) / 1_000_000
        assert pricing.cost_from_usage(model, above) == long.quantize(pricing.COST_QUANTUM)
        assert pricing.cost_from_usage(model, above) == Decimal("1.161006")  # 0.600006 + 0.036 + 0.3 + 0.225
    else:
        assert pricing.cost_from_usage(model, above) == (
            base + Decimal(i) * 100_001 / 1_000_000).quantize(pricing.COST_QUANTUM)


def test_unknown_and_newer_models_are_unpriced() -> None:
    for model in ("gpt-4o", "<synthetic>", "claude-opus-4-6", "claude-2.1", "", None):
        assert pricing.cost_from_usage(model, MILLION) is None
        assert not pricing.is_known_model(model)


def test_unexplained_cache_writes_count_as_5_minute() -> None:
    usage = {"cache_creation_input_tokens": 1000,
             "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 400}}
    assert pricing.cache_writes(usage) == (600, 400)
    assert pricing.cost_from_usage("claude-sonnet-4-5", usage) == Decimal("0.00465")
