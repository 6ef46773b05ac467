"""Identity merging: which distinct ids are one person.

Semantics follow PostHog, which product analytics users know:

* ``$identify`` with ``properties.$anon_distinct_id = A`` sent by known id ``K`` joins
  ``A`` into ``K``'s person and marks that person identified — unless ``A`` already belongs
  to an identified person (then the merge is refused: two identified persons are never
  merged);
* ``$create_alias`` with ``properties.alias = X`` sent by ``D`` joins ``X`` and ``D`` —
  unless both already belong to identified persons;
* placeholder ids (``null``, ``undefined``, ``anonymous``, ``0``, ...) are never merged.

Merge events are replayed in time order, so the map is the same whatever order files were
imported in. The whole map is rebuilt whenever an import brings merge events (or replaces
events): merge events are a tiny share of all events, and a rebuild cannot drift. Other
events never change the map — an id that was never merged is its own person.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from northstar.ingest.validate import ILLEGAL_IDS

MERGE_EVENTS = ("$identify", "$create_alias")  # the only events that change the map
_MERGE_LIST = ", ".join(f"'{e}'" for e in MERGE_EVENTS)
_MERGE_EVENTS_SQL = f"""
SELECT uuid, event, distinct_id,
       json_extract_string(properties, '$."$anon_distinct_id"') AS anon_id,
       json_extract_string(properties, '$.alias') AS alias
FROM events
WHERE event IN ({_MERGE_LIST})
ORDER BY timestamp, uuid
"""


@dataclass
class _People:
    parent: dict[str, str] = field(default_factory=dict)
    identified: set[str] = field(default_factory=set)  # roots of identified persons

    def find(self, node: str) -> str:
        root = self.parent.setdefault(node, node)
        while root != self.parent[root]:
            root = self.parent[root]
        while node != root:  # path compression
            self.parent[node], node = root, self.parent[node]
        return root

    def join(self, into: str, other: str) -> None:
        """Put ``other``'s person into ``into``'s person; ``into``'s root stays the id."""
        a, b = self.find(into), self.find(other)
        if a != b:
            self.parent[b] = a
            if b in self.identified:
                self.identified.discard(b)
                self.identified.add(a)


def _is_placeholder(value: str | None) -> bool:
    return value is None or value.strip() == "" or value.strip().lower() in ILLEGAL_IDS


def rebuild_person_map(
    con: duckdb.DuckDBPyConnection, batch: list[str] | None = None
) -> tuple[int, int]:
    """Recompute ``_person_map`` and ``_identity_refusals`` and move the stored events of
    the ids whose person changed (:func:`fix_persons`); returns (merged ids, refusals).

    ``batch``: queries of merge events about to be written (``uuid, event, distinct_id,
    timestamp, properties``), replayed with the stored ones, so that the batch's events
    can be written with their final person rather than updated after."""
    people = _People()
    refusals: list[tuple[str, str, str, str]] = []
    sql = _MERGE_EVENTS_SQL
    if batch:
        stored = (
            "SELECT uuid, event, distinct_id, timestamp, properties FROM events "
            f"WHERE event IN ({_MERGE_LIST})"
        )
        every = " UNION ".join([stored, *batch])
        sql = sql.replace("FROM events\n", f"FROM ({every}) AS merges\n")
    con.execute("CREATE OR REPLACE TEMP TABLE _ns_old_map AS SELECT * FROM _person_map")
    for uuid, event, distinct_id, anon_id, alias in con.execute(sql).fetchall():
        other = anon_id if event == "$identify" else alias
        if event == "$identify":
            if _is_placeholder(other) or other == distinct_id:
                people.identified.add(people.find(distinct_id))
                continue
            if people.find(other) in people.identified and people.find(other) != people.find(
                distinct_id
            ):
                refusals.append(
                    (
                        uuid,
                        distinct_id,
                        other,
                        "anonymous id already belongs to an identified person",
                    )
                )
                continue
            people.join(distinct_id, other)
            people.identified.add(people.find(distinct_id))
        else:
            if _is_placeholder(other):
                refusals.append(
                    (uuid, distinct_id, other or "", "alias is missing or a placeholder")
                )
                continue
            a, b = people.find(distinct_id), people.find(other)
            if a != b and a in people.identified and b in people.identified:
                refusals.append((uuid, distinct_id, other, "both ids are identified persons"))
                continue
            # The identified side, if any, keeps its id as the person id.
            if b in people.identified and a not in people.identified:
                people.join(other, distinct_id)
            else:
                people.join(distinct_id, other)
    mapping = [(node, people.find(node)) for node in list(people.parent)]
    mapping = [(node, root) for node, root in mapping if node != root]
    con.execute("DELETE FROM _person_map")
    con.execute("DELETE FROM _identity_refusals")
    if mapping:
        table = pa.table(
            {"distinct_id": [m[0] for m in mapping], "person_id": [m[1] for m in mapping]}
        )
        con.register("_ns_person_map", table)
        con.execute("INSERT INTO _person_map SELECT * FROM _ns_person_map")
        con.unregister("_ns_person_map")
    if refusals:
        con.executemany("INSERT INTO _identity_refusals VALUES (?, ?, ?, ?)", refusals)
    fix_persons(con)
    return len(mapping), len(refusals)


def fix_persons(con: duckdb.DuckDBPyConnection) -> int:
    """Set the stored events' ``person_id`` (NULL when the person is the event's own id)
    for the ids whose person the last rebuild changed — the difference between the map
    before (``_ns_old_map``) and now; returns how many ids changed."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ns_fix AS
        SELECT coalesce(n.distinct_id, o.distinct_id) AS distinct_id, n.person_id
        FROM _person_map n FULL OUTER JOIN _ns_old_map o ON o.distinct_id = n.distinct_id
        WHERE n.person_id IS DISTINCT FROM o.person_id"""
    )
    row = con.execute("SELECT count(*) FROM _ns_fix").fetchone()
    changed = int(row[0]) if row else 0
    if changed:
        con.execute(
            "UPDATE events SET person_id = f.person_id FROM _ns_fix f "
            "WHERE events.distinct_id = f.distinct_id"
        )
    con.execute("DROP TABLE _ns_fix")
    con.execute("DROP TABLE _ns_old_map")
    return changed
