"""Sharded stock: where an order takes its units from, and how a restock spreads them.

One item can take only so many writes a second, and DynamoDB cancels a transaction that
touches an item another one is writing (docs/capacity.md, "Flash sale"). So a SKU's
available stock may be spread over `shards` items; each order takes its units from one
shard picked at random, and only when that one is short does it read them all and take
from one that has enough, or from several (the line is split). Shard 0 is the product item
itself, so a SKU of one shard is stored as it always was.

The invariant: every shard's stock >= 0 (every take is conditional on it), and
sum(shards) + units held by orders = units received; a take moves units from one shard to
one order, a release moves them back to the same shard, each in the transaction that
changes the order.
"""

from __future__ import annotations

import random

from order_service.domain.errors import OutOfStock
from order_service.domain.model import Product, Reservation

MAX_SHARDS = 100  # a restock writes every shard in one transaction: at most 100 items
# The generator that picks shards. Not for secrets; the simulation seeds it so that a
# history replays with the same picks.
choice = random.Random()


def first_pick(quantities: dict[str, int], products: dict[str, Product]) -> list[Reservation]:
    """One shard per line, uniformly at random among the product's `shards`: at a flash
    sale each shard takes about rate / shards of the writes."""
    return [
        Reservation(sku=sku, shard=choice.randrange(max(1, products[sku].shards)), quantity=quantity)
        for sku, quantity in quantities.items()
    ]


def repick(sku: str, quantity: int, stocks: list[int]) -> list[Reservation]:
    """Where `quantity` of `sku` can come from, given every shard's stock (read after the
    shard first picked turned out short): one shard that has it all, picked at random among
    those (not the fullest: every short order would pile onto that one); else a split over
    the fullest shards; OutOfStock when all of them together are short."""
    whole = [shard for shard, stock in enumerate(stocks) if stock >= quantity]
    if whole:
        return [Reservation(sku=sku, shard=choice.choice(whole), quantity=quantity)]
    if sum(max(0, stock) for stock in stocks) < quantity:
        raise OutOfStock([sku])
    parts: list[Reservation] = []
    left = quantity
    for shard in sorted(range(len(stocks)), key=lambda k: (-stocks[k], k)):
        take = min(left, stocks[shard])
        if take <= 0:
            break
        parts.append(Reservation(sku=sku, shard=shard, quantity=take))
        left -= take
    return parts


def spread(total: int, shards: int, items: int) -> list[int]:
    """A restock's stock per shard item: `total` over the first `shards` (total div shards
    each, one more for the first total mod shards), none on the items above (they stay,
    empty, for the units orders still hold from them)."""
    base, extra = divmod(total, shards)
    return [base + (1 if k < extra else 0) if k < shards else 0 for k in range(max(items, shards))]
