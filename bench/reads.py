"""Benchmarks 5 and 6b: read paths over many rows.

5. A board with 10,000 employees' rows, seeded with PynamoDB batch writes; the top 10 via
   ``ripple.service.queries.leaderboard``: items read (ScannedCount of each Query) and
   proof that no Scan was issued.
6b. A 5,000-node spread tree (chain-node items seeded directly), read by
   ``ripple.service.chains.chain_tree``: items read and Query pages (1 MB each).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator
from typing import Any

from bench.calls import recording
from bench.report import Row
from bench.world import Sizes, bench_campaign

__all__ = ["run"]

BOARD_TENANT = "big"
CHAIN_TENANT = "chains"
CHAIN_CAMPAIGN = "viral"
CHAIN_ROOT = "alice"


@contextlib.contextmanager
def _patient(*models: Any) -> Iterator[None]:
    """moto answers a GSI Query by sorting every item of the table in Python (seconds with
    10,000+ rows), far beyond the product's 5 s read timeout; give moto time, without
    retries, for the measured call only. DynamoDB itself reads just the items counted."""
    saved = [(m.Meta, m.Meta.read_timeout_seconds, m.Meta.max_retry_attempts) for m in models]
    for m in models:
        m.Meta.read_timeout_seconds, m.Meta.max_retry_attempts = 120, 0
        m._connection = None
    try:
        yield
    finally:
        for meta, timeout, retries in saved:
            meta.read_timeout_seconds, meta.max_retry_attempts = timeout, retries
        for m in models:
            m._connection = None


def _node(rng: random.Random) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16))


def _leaderboard(sizes: Sizes) -> tuple[list[Row], list[str]]:
    from ripple import bootstrap
    from ripple.adapters.models import BoardRowItem
    from ripple.domain.model import Role
    from ripple.domain.points import ALL_CAMPAIGNS, board_id
    from ripple.service.auth import Principal
    from ripple.service.queries import leaderboard

    board = board_id(BOARD_TENANT, "employee", ALL_CAMPAIGNS, "all")
    rng = random.Random(5)
    scores = {f"emp{i:05d}": 10 * rng.randint(1, 100_000) for i in range(sizes.board_rows)}
    t0 = time.perf_counter()
    with BoardRowItem.batch_write() as batch:
        for member, score in scores.items():
            batch.save(BoardRowItem(BoardRowItem.key(board, member), board=board, member=member, score=score))
    seeded = time.perf_counter() - t0

    with _patient(BoardRowItem), recording() as log:
        entries = leaderboard(bootstrap.services(), Principal(BOARD_TENANT, "boss", Role.ADMIN), {"limit": "10"})
    expected = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    got = [(e.id, e.score) for e in entries]
    if got != expected:
        raise RuntimeError(f"leaderboard top-10 wrong: {got} != {expected}")
    ops = log.ops()
    items = log.items_read()
    rows = [
        Row(
            f"5. leaderboard top-10 of {sizes.board_rows:,} rows: items read",
            f"{items} in {ops['Query']} Query call(s)",
            "<= 20",
            items <= 20,
        ),
        Row("5. leaderboard Scan calls", str(ops["Scan"]), "0", ops["Scan"] == 0),
    ]
    notes = [f"5: {sizes.board_rows:,} rows seeded by BatchWriteItem in {seeded:.1f}s; top-10 checked against them."]
    return rows, notes


def _chains(sizes: Sizes) -> tuple[list[Row], list[str]]:
    from ripple import bootstrap
    from ripple.adapters.models import ChainNodeItem
    from ripple.domain.model import Role
    from ripple.domain.points import root_node
    from ripple.service.auth import Principal
    from ripple.service.chains import chain_tree

    bench_campaign(CHAIN_TENANT, CHAIN_CAMPAIGN)
    rng = random.Random(6)
    root = root_node(CHAIN_ROOT)
    tree = ChainNodeItem.tree(CHAIN_TENANT, CHAIN_CAMPAIGN, CHAIN_ROOT)
    nodes: list[tuple[str, int]] = [(root, 0)]
    children: dict[str, int] = {}
    items: list[ChainNodeItem] = []
    t_first = int(time.time() * 1000) - 86_400_000
    for i in range(sizes.chain_nodes):
        # preferential attachment, like real forwarding: a few people spread widely
        parent, depth = nodes[0] if rng.random() < 0.2 else rng.choice(nodes)
        node = _node(rng)
        nodes.append((node, depth + 1))
        children[parent] = children.get(parent, 0) + 1
        items.append(
            ChainNodeItem(
                ChainNodeItem.key(CHAIN_TENANT, CHAIN_CAMPAIGN, node),
                gsi1pk=tree,
                gsi1sk=node,
                tenant=CHAIN_TENANT,
                campaign_id=CHAIN_CAMPAIGN,
                root=CHAIN_ROOT,
                node=node,
                parent=parent,
                depth=depth + 1,
                first_seen=t_first + i * 1000,
            )
        )
    items.append(
        ChainNodeItem(
            ChainNodeItem.key(CHAIN_TENANT, CHAIN_CAMPAIGN, root),
            gsi1pk=tree,
            gsi1sk=root,
            tenant=CHAIN_TENANT,
            campaign_id=CHAIN_CAMPAIGN,
            root=CHAIN_ROOT,
            node=root,
        )
    )
    with ChainNodeItem.batch_write() as batch:
        for item in items:
            if item.node != root:
                item.visitors = children.get(item.node, 0)
                item.forwards = children.get(item.node, 0)
            else:
                item.visitors = children.get(root, 0)
            batch.save(item)

    with _patient(ChainNodeItem), recording() as log:
        result = chain_tree(
            bootstrap.services(), Principal(CHAIN_TENANT, CHAIN_ROOT, Role.EMPLOYEE), CHAIN_CAMPAIGN, {}
        )
    if result["totals"]["nodes"] != sizes.chain_nodes or result["root"]["visitors"] != children.get(root, 0):
        raise RuntimeError(f"chain tree wrong: {result['totals']}, root {result['root']}")
    ops = log.ops()
    read = log.items_read() - ops["GetItem"]  # the campaign check is one GetItem
    other = {op: n for op, n in ops.items() if op not in ("Query", "GetItem")}
    expected = sizes.chain_nodes + 1
    rows = [
        Row(
            f"6. chain tree of {sizes.chain_nodes:,} nodes: items read",
            f"{read:,} in {ops['Query']} Query page(s) + {ops['GetItem']} GetItem",
            f"= {expected:,} (nodes + root), 1 pass",
            read == expected and not other,
        ),
    ]
    notes = [
        f"6: max depth {result['totals']['max_depth']}; Query pages follow DynamoDB's 1 MB page limit "
        "(moto enforces it); other operations: " + (", ".join(f"{k}={v}" for k, v in other.items()) or "none") + "."
    ]
    return rows, notes


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    rows, notes = _leaderboard(sizes)
    rows2, notes2 = _chains(sizes)
    return rows + rows2, notes + notes2
