"""Tokens -> USD with a pinned price table (USD per million tokens).

Every Claude model Claude Code has used, as Anthropic publishes it. A model is matched by
its name with any date suffix (and Bedrock / Vertex spelling) removed; an unknown model
gives None, never $0. Cache writes are priced by lifetime (5 minutes: 1.25x input, 1 hour:
2x input), cache reads at 0.1x input. Sonnet 4 and 4.5 have a long-context tier: a request
whose input (input + cache writes + cache reads) exceeds 200,000 tokens is billed at the
long-context rates for all of its tokens, output included (Anthropic's rule).

ccusage (LiteLLM's price data) prices that tier differently: only the part of each token
kind above 200,000 at the higher rate. The two agree on every request at or below 200,000
input tokens of each kind; tests/test_ccusage_agreement.py shows both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

PRICE_TABLE_VERSION = "2026-12-03"
_MILLION = Decimal(1_000_000)
COST_QUANTUM = Decimal("0.00000001")
LONG_CONTEXT_TOKENS = 200_000  # input tokens above which the long-context tier applies


@dataclass(frozen=True)
class Price:
    """USD per million tokens of one model; `long_context` for requests above 200k input."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal
    long_context: Price | None = None


def _p(i: str, o: str, w5: str, w1: str, r: str, long_context: Price | None = None) -> Price:
    return Price(Decimal(i), Decimal(o), Decimal(w5), Decimal(w1), Decimal(r), long_context)


# Sources, each read 2026-12-03:
#  [P] https://platform.claude.com/docs/en/about-claude/pricing ("Model pricing": base input,
#      5m / 1h cache writes, cache hits, output; "Long context pricing": Sonnet 4 / 4.5 above
#      200K input tokens $6 input / $22.50 output, caching multipliers on top).
#  [C3] https://www.anthropic.com/news/claude-3-family (2024-03-04): Claude 3 Sonnet $3 / $15.
#  [C35] https://www.anthropic.com/news/claude-3-5-sonnet (2024-06-20): 3.5 Sonnet $3 / $15.
#  [PC] https://platform.claude.com/docs/en/build-with-claude/prompt-caching: 5m write 1.25x,
#      1h write 2x, read 0.1x of base input (how retired models' cache rates are derived).
# Cross-checked the same day against ccusage 20.0.24's built-in (LiteLLM) prices: every row
# gives the same cost as `ccusage session --offline` (tests/test_ccusage_agreement.py).
_SONNET = _p("3", "15", "3.75", "6", "0.30")
_SONNET_LONG = _p("3", "15", "3.75", "6", "0.30",
                  long_context=_p("6", "22.50", "7.50", "12", "0.60"))  # [P] long context
_OPUS_3_4 = _p("15", "75", "18.75", "30", "1.50")

# Longest prefix wins, so "claude-opus-4-5" is found before "claude-opus-4".
PRICES: dict[str, Price] = {
    "claude-opus-4-5": _p("5", "25", "6.25", "10", "0.50"),  # [P] Opus 4.5
    "claude-opus-4-1": _OPUS_3_4,  # [P] Opus 4.1
    "claude-opus-4": _OPUS_3_4,  # [P] Opus 4
    "claude-sonnet-4-5": _SONNET_LONG,  # [P] Sonnet 4.5, long context tier
    "claude-sonnet-4": _SONNET_LONG,  # [P] Sonnet 4, long context tier
    "claude-haiku-4-5": _p("1", "5", "1.25", "2", "0.10"),  # [P] Haiku 4.5
    "claude-3-7-sonnet": _SONNET,  # [P] Sonnet 3.7
    "claude-3-5-sonnet": _SONNET,  # [C35] input/output; [PC] cache rates
    "claude-3-5-haiku": _p("0.80", "4", "1", "1.6", "0.08"),  # [P] Haiku 3.5
    "claude-3-opus": _OPUS_3_4,  # [P] Opus 3
    "claude-3-sonnet": _SONNET,  # [C3] input/output; [PC] cache rates (retired model)
    "claude-3-haiku": _p("0.25", "1.25", "0.30", "0.50", "0.03"),  # [P] Haiku 3
}
_DATE_SUFFIX = re.compile(r"[-@](\d{8}|latest)(-v\d+(:\d+)?)?$")
_BY_LENGTH = sorted(PRICES, key=len, reverse=True)


def price_for(model: str | None) -> Price | None:
    """The price row of a model name (dated, undated, Bedrock or Vertex spelling), or None."""
    if not model:
        return None
    name = model.strip().lower()
    name = name.removeprefix("anthropic/").removeprefix("us.").removeprefix("eu.")
    name = _DATE_SUFFIX.sub("", name.removeprefix("anthropic."))
    for prefix in _BY_LENGTH:
        rest = name[len(prefix):]
        # "claude-opus-4-6" is a newer model, not a spelling of "claude-opus-4": no price.
        if name.startswith(prefix) and (not rest or rest[0] == "@"
                                        or (rest[0] == "-" and not rest[1:2].isdigit())):
            return PRICES[prefix]
    return None


def is_known_model(model: str | None) -> bool:
    return price_for(model) is not None


def _int(v: Any) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0


def cache_writes(usage: Mapping[str, Any]) -> tuple[int, int]:
    """(5-minute, 1-hour) cache-write tokens of one response's usage.

    `cache_creation.ephemeral_*_input_tokens` when given; a remainder of
    `cache_creation_input_tokens` they leave unexplained counts as 5-minute writes.
    """
    split = usage.get("cache_creation") if isinstance(usage.get("cache_creation"), Mapping) else None
    total = _int(usage.get("cache_creation_input_tokens"))
    if not split:
        return total, 0
    w1h = _int(split.get("ephemeral_1h_input_tokens"))
    w5m = _int(split.get("ephemeral_5m_input_tokens"))
    return (max(w5m, total - w1h), w1h)


def cost_from_usage(model: str | None, usage: Mapping[str, Any] | None) -> Decimal | None:
    """USD for one API response's usage, or None when the model is unknown."""
    price = price_for(model)
    if price is None:
        return None
    usage = usage or {}
    w5m, w1h = cache_writes(usage)
    tokens_in = _int(usage.get("input_tokens"))
    tokens_read = _int(usage.get("cache_read_input_tokens"))
    if price.long_context is not None and tokens_in + w5m + w1h + tokens_read > LONG_CONTEXT_TOKENS:
        price = price.long_context
    cost = (
        tokens_in * price.input
        + _int(usage.get("output_tokens")) * price.output
        + w5m * price.cache_write_5m
        + w1h * price.cache_write_1h
        + tokens_read * price.cache_read
    ) / _MILLION
    return cost.quantize(COST_QUANTUM)
