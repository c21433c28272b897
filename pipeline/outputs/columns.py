"""Which figures a report table shows, in which order, and their values (0 for keys older reports lack)."""
from __future__ import annotations

from pipeline.core.schema import Schema, load_schema


# Keys report.json gained after earlier weeks' reports were stored (not-stated counts, updated rows,
# unusable districts): such a report reads 0 for them.
LATER_KEYS = frozenset({"nationality_unknown", "wants_vaccine_unknown", "updated", "unusable",
                        load_schema().label("not_stated")})


def scoped_path(path: tuple[str, ...], scope: str) -> tuple[str, ...]:
    """A figure's path inside its block for the cumulative table ('total') or the new-this-week one."""
    if scope == "total":
        return path
    return ("new",) if path == ("total",) else ("this_week", *path)


def figure_value(block: dict, path: tuple[str, ...]):
    """A figure by its path; a key added later (LATER_KEYS) reads 0 in a report made before it existed."""
    for key in path:
        block = block.get(key, 0) if key in LATER_KEYS else block[key]
    return block


def figure_columns(dataset: str, schema: Schema, stale_days: int) -> list[tuple[str, tuple[str, ...]]]:
    """(column title, path inside the block) of a dataset's figures sheet; each not-stated count beside
    the figures it completes."""
    label, not_stated = schema.label, schema.label("not_stated")
    columns = [(label("total_people") if dataset == "unvaccinated" else label("count"), ("total",))]
    if dataset == "unvaccinated":
        columns += [(label(key), (key,)) for key in ("thai", "non_thai", "nationality_unknown", "wants_vaccine",
                                                     "wants_vaccine_unknown")]
    if dataset == "facilities":
        columns.append((label("stale", days=stale_days), ("stale",)))
    if dataset == "help_requests":
        columns.append((label("open"), ("open",)))
    closed = {"volunteers": ("by_type", "volunteer_types"), "unvaccinated": ("by_reason", "reasons"),
              "facilities": ("by_type", "facility_types"), "help_requests": ("by_type", "request_types")}
    by_key, list_name = closed[dataset]
    columns += [(value, (by_key, value)) for value in schema.choice_values(list_name)]
    if dataset == "unvaccinated":
        columns.append((not_stated, (by_key, not_stated)))
    if dataset in ("facilities", "help_requests"):
        statuses = "facility_statuses" if dataset == "facilities" else "request_statuses"
        columns += [(value, ("by_status", value)) for value in schema.choice_values(statuses)]
        if dataset == "facilities":
            columns.append((not_stated, ("by_status", not_stated)))
    return columns
