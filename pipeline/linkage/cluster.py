"""Clusters from links: connected components, with a constrained union-find where constraints bite.

Most components hold no conflict and are found with array operations. Only components that would
join two different valid IDs, or two records the office said are different, are rebuilt by a
union-find that takes links in order (ID links, then 'same' decisions, then scores, highest first,
ties by record key) and refuses any union that breaks a constraint.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label of each of n nodes (the smallest node position in its component)."""
    parent = np.arange(n, dtype=np.int64)
    while True:
        while True:  # pointer jumping until every node points at its root
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        root_a, root_b = parent[a], parent[b]
        apart = root_a != root_b
        if not apart.any():
            return parent
        np.minimum.at(parent, np.maximum(root_a[apart], root_b[apart]), np.minimum(root_a[apart], root_b[apart]))


def conflicted(labels: np.ndarray, ids: np.ndarray, forbidden_a: np.ndarray, forbidden_b: np.ndarray) -> np.ndarray:
    """Labels of components holding two different IDs (ids: -1 = none) or a forbidden pair."""
    has = ids >= 0
    pairs = pd.DataFrame({"label": labels[has], "id": ids[has]}).drop_duplicates()
    two_ids = pairs["label"][pairs["label"].duplicated()].to_numpy()
    same = labels[forbidden_a] == labels[forbidden_b]
    return np.unique(np.concatenate([two_ids, labels[forbidden_a][same]]))


def constrained_union(nodes: np.ndarray, edges: pd.DataFrame, ids: np.ndarray,
                      forbidden: list[tuple[int, int]]) -> tuple[dict[int, int], np.ndarray]:
    """Union-find over the given nodes taking edges in frame order (columns a, b).

    Returns (node -> root, accepted mask over the edges). A union is refused when both sides hold
    different IDs or a forbidden pair would end up together.
    """
    parent = {int(node): int(node) for node in nodes}
    cluster_id = {int(node): (int(ids[node]) if ids[node] >= 0 else None) for node in nodes}
    enemies: dict[int, set[int]] = {int(node): set() for node in nodes}
    for x, y in forbidden:
        if x in enemies and y in enemies:
            enemies[x].add(y)
            enemies[y].add(x)

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    accepted = np.zeros(len(edges), dtype=bool)
    for row, (x, y) in enumerate(zip(edges["a"].to_numpy().tolist(), edges["b"].to_numpy().tolist())):
        root_x, root_y = find(x), find(y)
        if root_x == root_y:
            accepted[row] = True
            continue
        id_x, id_y = cluster_id[root_x], cluster_id[root_y]
        if id_x is not None and id_y is not None and id_x != id_y:
            continue
        if any(find(enemy) == root_y for enemy in enemies[root_x]):
            continue
        if len(enemies[root_x]) < len(enemies[root_y]):
            root_x, root_y = root_y, root_x
        parent[root_y] = root_x
        cluster_id[root_x] = id_x if id_x is not None else id_y
        enemies[root_x] |= enemies.pop(root_y)
        accepted[row] = True
    return {node: find(node) for node in parent}, accepted
