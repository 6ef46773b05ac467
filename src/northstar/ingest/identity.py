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


def rebuild_person_map(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """Recompute ``_person_map`` and ``_identity_refusals``; returns (merged ids, refusals)."""
    people = _People()
    refusals: list[tuple[str, str, str, str]] = []
    for uuid, event, distinct_id, anon_id, alias in con.execute(_MERGE_EVENTS_SQL).fetchall():
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
    """Set each event's ``person_id`` from the identity map where a merge changed it (or
    undid one): the person when it is not the event's own id, else NULL. Returns the
    distinct ids whose events changed; only their events are touched."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ns_fix AS
        SELECT DISTINCT e.distinct_id, m.person_id
        FROM events e LEFT JOIN _person_map m ON m.distinct_id = e.distinct_id
        WHERE e.person_id IS DISTINCT FROM m.person_id"""
    )
    row = con.execute("SELECT count(*) FROM _ns_fix").fetchone()
    changed = int(row[0]) if row else 0
    if changed:
        con.execute(
            "UPDATE events SET person_id = f.person_id FROM _ns_fix f "
            "WHERE events.distinct_id = f.distinct_id"
        )
    con.execute("DROP TABLE _ns_fix")
    return changed
