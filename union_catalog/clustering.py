"""Union records in the database: re-clustering after an import, stable ids,
the union record's description, and coordinators' split and merge.

Services here take a session and never commit.

How an import re-clusters only what changed: every record's blocking keys
(``matching.block_keys``) sit in ``match_keys`` as 64-bit hashes. The changed
records' keys find their candidates; the scope is the changed records, their
candidates and every member of the clusters any of them was in. Only that
scope is clustered again, and its groups inherit the old cluster ids: the id
of the oldest cluster whose largest part a group holds; a cluster whose
largest part went to a group with an older id is merged into it
(``merged_into_id``); a cluster left with no member keeps its row with
``member_count`` 0, so old links answer "withdrawn" rather than "not found".
"""
from __future__ import annotations

import re
import time
import zlib
from collections import Counter
from collections.abc import Collection, Iterable

from sqlalchemy import bindparam, delete, select, update

from ill.errors import BadRequest, Conflict, NotFound

from . import bulk, marc, matching, search
from .models import Cluster, ClusterDecision, MatchKey, SourceRecord

CHUNK = bulk.SQLITE_IDS


def key_hash(key: str) -> int:
    """A blocking key as a signed 64-bit integer. Two checksums side by side:
    quick, stable across processes, and a rare collision only costs one
    needless comparison."""
    data = key.encode()
    return ((zlib.crc32(data) << 32) | zlib.adler32(data)) - (1 << 63)


def _partner_codes(session) -> dict[int, str]:
    from agreements.models import Partner

    return dict(session.execute(select(Partner.id, Partner.code)).all())


class _Row:
    __slots__ = ("id", "partner_id", "record_key", "control_number", "ordinal", "facts",
                 "cluster_id", "evidence")

    def __init__(self, r):
        (self.id, self.partner_id, self.record_key, self.control_number, self.ordinal,
         facts, self.cluster_id, self.evidence) = r
        self.facts = facts or {}


_LIVE = SourceRecord.withdrawn_at.is_(None)


_LOAD_SQL = ("SELECT id, partner_id, record_key, control_number, ordinal, match_data, "
             "cluster_id, match_evidence FROM source_records")


def _load(session, where_column, values, rows: dict) -> None:
    """Live records (with their facts) whose where_column is among values,
    read straight from the driver: the scope of a re-clustering is thousands
    of rows, and SQLAlchemy's per-row work would cost more than the query."""
    for r in bulk.select_among(session.connection(), _LOAD_SQL, where_column.key, values,
                               tail=" AND withdrawn_at IS NULL"):
        if r[0] not in rows:
            rows[r[0]] = _Row((r[0], r[1], r[2], r[3], r[4], bulk.json_value(r[5]), r[6], r[7]))


_BARE_SQL = ("SELECT id, partner_id, record_key, control_number, ordinal, cluster_id, match_evidence "
             "FROM source_records")


def _load_known(session, known: dict[int, dict], rows: dict) -> None:
    """Rows of records whose facts the caller handed over: all but the facts."""
    for rid, pid, key, control, ordinal, cid, evidence in bulk.select_among(
            session.connection(), _BARE_SQL, "id", known, tail=" AND withdrawn_at IS NULL"):
        rows[rid] = _Row((rid, pid, key, control, ordinal, known[rid], cid, evidence))


def _label(row: _Row, codes: dict) -> str:
    return f"{codes.get(row.partner_id, '?')} {row.control_number or '#' + str(row.ordinal)}"


# --- keys ---------------------------------------------------------------------------

MATCH_KEY_COLUMNS = [("key_hash", "bigint"), ("source_record_id", "integer")]


def _write_keys(session, rows: Iterable[_Row], block_keys: dict, pending: Collection[int] = ()
                ) -> tuple[dict[int, list[int]], list[tuple]]:
    """The rows' key hashes, written to match_keys; those of pending records
    (not written yet themselves) are returned as rows for the caller to
    write after them."""
    keys = {}
    params, later = [], []
    for row in rows:
        hashes = sorted({key_hash(k) for k in block_keys[row.id]})
        keys[row.id] = hashes
        rid = row.id
        (later if rid in pending else params).extend((h, rid) for h in hashes)
    bulk.insert_rows(session.connection(), "match_keys", MATCH_KEY_COLUMNS, params)
    return keys, later


_CLUSTER_COLUMNS = [
    ("title", "text"), ("author", "text"), ("year", "integer"), ("publisher", "text"),
    ("edition", "varchar"), ("language", "varchar"), ("format", "varchar"),
    ("volume", "varchar"), ("isbns", "json"), ("issns", "json"), ("member_count", "integer")]


def _cluster_values(d: dict) -> tuple:
    return (d["title"], d["author"], d["year"], d["publisher"], d["edition"], d["language"],
            d["format"], d["volume"], bulk.dumps(d["isbns"]), bulk.dumps(d["issns"]),
            d["member_count"])


def _insert_clusters(session, descriptions: list[dict], stamp: dict) -> list[int]:
    """New union records, their ids in the order given."""
    conn = session.connection()
    ids = bulk.new_ids(conn, "clusters", len(descriptions))
    created, updated = bulk.timestamp(conn, stamp["created_at"]), bulk.timestamp(conn, stamp["updated_at"])
    bulk.insert_rows(conn, "clusters",
                     [("id", "integer"), *_CLUSTER_COLUMNS, ("created_at", "timestamptz"),
                      ("updated_at", "timestamptz")],
                     [(i, *_cluster_values(d), created, updated)
                      for i, d in zip(ids, descriptions, strict=True)])
    return ids


def _drop_keys(session, record_ids: Iterable[int]) -> None:
    bulk.delete_among(session.connection(), "match_keys", "source_record_id", record_ids)


def _candidates(session, hashes: set[int]) -> set[int]:
    return {r[0] for r in bulk.select_among(session.connection(),
                                            "SELECT DISTINCT source_record_id FROM match_keys", "key_hash",
                                            hashes, pg_type="bigint")}


# --- decisions ----------------------------------------------------------------------

def _decisions(session, codes: dict) -> tuple[list, list]:
    """(together, apart) as pairs of live record ids."""
    decisions = session.scalars(select(ClusterDecision)).all()
    if not decisions:
        return [], []
    by_code = {code: pid for pid, code in codes.items()}
    wanted: dict[int, set[str]] = {}
    for d in decisions:
        for code, key in ((d.a_partner, d.a_key), (d.b_partner, d.b_key)):
            if code in by_code:
                wanted.setdefault(by_code[code], set()).add(key)
    ids: dict[tuple[str, str], int] = {}
    for pid, keys in wanted.items():
        for chunk in bulk.chunks(keys, CHUNK):
            for rid, key in session.execute(
                    select(SourceRecord.id, SourceRecord.record_key)
                    .where(SourceRecord.partner_id == pid, SourceRecord.record_key.in_(chunk),
                           _LIVE)):
                ids[(codes[pid], key)] = rid
    together, apart = [], []
    for d in decisions:
        a, b = ids.get((d.a_partner, d.a_key)), ids.get((d.b_partner, d.b_key))
        if a is None or b is None:
            continue
        (together if d.kind == ClusterDecision.TOGETHER else apart).append((a, b))
    return together, apart


# --- the union record's description -------------------------------------------------

def describe_cluster(votes: list) -> dict:
    """The best description of an edition: the commonest form of each field
    among its members, every identifier. votes: facts dicts, or (weight,
    facts) pairs where a union record's own description speaks for its
    weight in members."""
    votes = [v if isinstance(v, tuple) else (1, v) for v in votes]
    if len(votes) == 1 and votes[0][0] == 1:
        f = votes[0][1]
        year = f.get("year")
        return {"title": (f.get("title") or "")[:2000], "author": (f.get("author") or "")[:2000],
                "year": year if isinstance(year, int) else None,
                "publisher": (f.get("publisher") or "")[:2000],
                "edition": (f.get("edition") or "")[:255],
                "language": (f.get("language") or "")[:3],
                "format": (f.get("format") or "book")[:20], "volume": (f.get("volume") or "")[:20],
                "isbns": sorted(set(f.get("isbns") or ())),
                "issns": sorted(set(f.get("issns") or ())), "member_count": 1}

    def mode(name: str, prefer_long: bool = False):
        counted: dict = {}
        for w, f in votes:
            value = f.get(name)
            if value is not None and value != "":
                counted[value] = counted.get(value, 0) + w
        if len(counted) < 2:  # the members agree (or say nothing): the common case
            return next(iter(counted), None)
        if prefer_long:
            return max(counted, key=lambda v: (counted[v], len(str(v)), str(v)))
        return max(counted, key=lambda v: (counted[v], -len(str(v)), str(v)))

    years: Counter = Counter()
    for w, f in votes:
        if isinstance(f.get("year"), int):
            years[f["year"]] += w
    return {
        "title": (mode("title", True) or "")[:2000],
        "author": (mode("author", True) or "")[:2000],
        "year": max(years, key=lambda y: (years[y], -y)) if years else None,
        "publisher": (mode("publisher", True) or "")[:2000],
        "edition": (mode("edition") or "")[:255],
        "language": (mode("language") or "")[:3],
        "format": (mode("format") or "book")[:20],
        "volume": (mode("volume") or "")[:20],
        "isbns": sorted({i for _w, f in votes for i in f.get("isbns") or ()}),
        "issns": sorted({i for _w, f in votes for i in f.get("issns") or ()}),
        "member_count": sum(w for w, _f in votes),
    }


_SUMMARY = ("id", "title", "author", "year", "publisher", "edition", "language", "format",
            "volume", "isbns", "issns", "member_count")


def _summaries(session, settled: dict) -> dict[int, dict]:
    out = {}
    for r in bulk.select_among(session.connection(), f"SELECT {', '.join(_SUMMARY)} FROM clusters",
                               "id", settled):
        d = dict(zip(_SUMMARY, r, strict=True))
        d["isbns"], d["issns"] = bulk.json_value(d["isbns"]) or [], bulk.json_value(d["issns"]) or []
        out[d["id"]] = d
    return out


# --- assigning ids ------------------------------------------------------------------

WITHDRAWN = "Withdrawn by its library"
_WAS_IN = re.compile(r"^Withdrawn by its library \(union record (\d+)\)\.$")


def withdrawn_evidence(cluster_id: int | None) -> str:
    """What a withdrawn record keeps of where it was (its match evidence): so
    that it finds its way back if its library sends it again, and the union
    record's page can still name it."""
    return WITHDRAWN + (f" (union record {cluster_id})." if cluster_id else ".")


def _returning(session, rows: dict, changed_ids: set[int]) -> dict[int, int]:
    """Records back from withdrawal, and the empty union record each left."""
    was = {}
    for rid in changed_ids:
        row = rows.get(rid)
        if row is not None and row.cluster_id is None and row.evidence:
            m = _WAS_IN.match(row.evidence)
            if m:
                was[rid] = int(m.group(1))
    if not was:
        return {}
    empty = set()
    for chunk in bulk.chunks(set(was.values()), CHUNK):
        empty.update(session.scalars(select(Cluster.id).where(
            Cluster.id.in_(chunk), Cluster.member_count == 0, Cluster.merged_into_id.is_(None))))
    return {rid: cid for rid, cid in was.items() if cid in empty}


def _assign_ids(groups: list[list[int]], rows: dict[int, _Row], weight: dict[int, int],
                previous: dict[int, int] | None = None):
    """Old cluster ids for the new groups: (group index -> id, retired id -> the
    group index it merged into). weight: the size of each settled union record,
    which moves whole; previous: the empty union record a returning record left."""
    parts: dict[int, Counter] = {}
    previous = previous or {}
    for n, group in enumerate(groups):
        for rid in group:
            old = rows[rid].cluster_id
            if old is None:
                if rid in previous:
                    parts.setdefault(previous[rid], Counter())[n] += 1
                continue
            if old in weight:
                parts.setdefault(old, Counter())[n] = weight[old]
            else:
                parts.setdefault(old, Counter())[n] += 1
    taken: dict[int, int] = {}
    retired: dict[int, int | None] = {}
    for old in sorted(parts):
        counted = parts[old]
        best = max(counted, key=lambda n: (counted[n], -groups[n][0]))
        if best in taken:
            retired[old] = best
        else:
            taken[best] = old
    return taken, retired


# --- the service --------------------------------------------------------------------

def recluster(session, partner_id: int | None, changed_ids: set[int], withdrawn_ids: set[int],
              *, extra_ids: Iterable[int] = (), facts: dict[int, dict] | None = None,
              pending: dict[int, tuple] | None = None) -> dict:
    """Re-cluster after an import of one partner (inside its transaction).

    changed_ids: that partner's new or changed records; withdrawn_ids: its
    records withdrawn by this import; extra_ids: records whose union records
    must be weighed again (after a coordinator's decision); facts: what
    describe() said of the changed records, by id, when the caller still has
    it (saves reading it back); pending: new records among changed_ids that
    are not written yet, {id: (partner_id, record_key, control_number,
    ordinal)} with their facts in `facts`, so that the caller writes them
    once, with their union record, instead of writing and then updating
    them. Returns {"clusters": ids of every union record whose members or
    description changed, "created": those of them made here, "placed":
    {pending id: (union record id, evidence)}, "pending_keys": their
    match_keys rows, and figures}."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    session.flush()
    codes = _partner_codes(session)
    changed_ids, withdrawn_ids, extra_ids = set(changed_ids), set(withdrawn_ids), set(extra_ids)
    rows: dict[int, _Row] = {}
    pending = pending or {}
    for rid, (pid, key, control, ordinal) in pending.items():
        rows[rid] = _Row((rid, pid, key, control, ordinal, facts[rid], None, None))
    if facts:
        _load_known(session, {i: facts[i] for i in changed_ids if i in facts and i not in pending},
                    rows)
    _load(session, SourceRecord.id, (changed_ids | extra_ids) - set(rows), rows)

    # the changed records' keys, and who shares them (a record never clustered has none)
    block_keys = {rid: matching.block_keys(row.facts) for rid, row in rows.items()}
    _drop_keys(session, withdrawn_ids | {i for i in changed_ids
                                         if i not in rows or rows[i].cluster_id is not None})
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    keys, pending_keys = _write_keys(session, [rows[i] for i in changed_ids if i in rows],
                                     block_keys, pending)
    candidates = _candidates(session, {h for hs in keys.values() for h in hs})
    t_keys = time.perf_counter() - t1
    t1 = time.perf_counter()

    # union records to weigh again from scratch: those the changed, withdrawn
    # and named records were in; the candidates' union records stay as they are
    reopened: set[int] = {r.cluster_id for r in rows.values() if r.cluster_id is not None}
    table = SourceRecord.__table__
    leaving = []
    for chunk in bulk.chunks(withdrawn_ids, CHUNK):
        for rid, cid in session.execute(select(SourceRecord.id, SourceRecord.cluster_id)
                                        .where(SourceRecord.id.in_(chunk))):
            if cid is not None:
                reopened.add(cid)
            # where it was, so that it finds its way back if its library sends it again
            leaving.append((withdrawn_evidence(cid), rid))
    if leaving:
        bulk.update_rows(session.connection(), "source_records", [("cluster_id", "integer"),
                                                 ("match_evidence", "text")],
                     [(None, evidence, rid) for evidence, rid in leaving])

    _load(session, SourceRecord.id, candidates, rows)
    together, apart = _decisions(session, codes)
    # the scope: the reopened union records whole, the candidates and the
    # records coordinators tied to any of them
    loaded: set[int] = set()
    asked: set[int] = set(rows) | changed_ids | extra_ids
    while True:
        clusters = reopened - loaded
        if clusters:
            _load(session, SourceRecord.cluster_id, clusters, rows)
            loaded |= clusters
        linked = {y for x, y in together + apart if x in rows} | \
                 {x for x, y in together + apart if y in rows}
        linked -= asked
        if linked:
            _load(session, SourceRecord.id, linked, rows)
            asked |= linked
        if not clusters and not linked:
            break
    # the other union records met on the way stay as they are: only what
    # their rows say of them is read, not all their members
    settled: dict[int, list[int]] = {}
    for rid, row in rows.items():
        if row.cluster_id is not None and row.cluster_id not in reopened:
            settled.setdefault(row.cluster_id, []).append(rid)
    summary = _summaries(session, settled)
    for cid in [c for c in settled if c not in summary]:
        del settled[cid]  # a union record gone under our feet: its members are free
    seeds = {members[0]: {**summary[cid], "edition_no": matching.edition_number(
        summary[cid].get("edition"))} for cid, members in settled.items()}

    for rid, row in rows.items():
        if rid not in block_keys:
            block_keys[rid] = matching.block_keys(row.facts)
    t_read += time.perf_counter() - t1
    t1 = time.perf_counter()
    result = matching.cluster(
        ((rid, _label(row, codes), row.facts) for rid, row in rows.items()), keys=block_keys,
        together=[p for p in together if p[0] in rows and p[1] in rows],
        apart=[p for p in apart if p[0] in rows and p[1] in rows],
        settled=settled.values(), seeds=seeds)
    groups = result.groups
    weight = {cid: max(summary[cid]["member_count"], len(members))
              for cid, members in settled.items()}
    owned, retired = _assign_ids(groups, rows, weight, _returning(session, rows, changed_ids))
    t_match = time.perf_counter() - t1

    # which groups are a settled union record, untouched
    unchanged_groups = set()
    for n, group in enumerate(groups):
        first = rows[group[0]].cluster_id
        if first in settled and len(group) == len(settled[first]) \
                and all(rows[r].cluster_id == first for r in group):
            unchanged_groups.add(n)

    # new union records for groups that inherit no id
    fresh = [n for n in range(len(groups)) if n not in owned]
    fresh_set = set(fresh)
    descriptions = {}
    for n, group in enumerate(groups):
        if n in unchanged_groups:
            continue
        votes = [(1, rows[r].facts) for r in group if rows[r].cluster_id not in settled]
        votes += [(weight[cid], summary[cid])
                  for cid in {rows[r].cluster_id for r in group} if cid in settled]
        descriptions[n] = describe_cluster(votes)
    stamp = _stamp()
    if fresh:
        new_ids = _insert_clusters(session, [descriptions[n] for n in fresh], stamp)
        owned.update(zip(fresh, new_ids, strict=True))
    touched = {owned[n] for n in descriptions}
    dialect = session.connection().dialect
    stamp_type = Cluster.__table__.c.updated_at.type.dialect_impl(dialect)
    to_time = stamp_type.bind_processor(dialect)
    now = to_time(stamp["updated_at"]) if to_time else stamp["updated_at"]
    described = [(*_cluster_values(d), now, None, owned[n])
                 for n, d in descriptions.items() if n not in fresh_set]
    if described:
        bulk.update_rows(session.connection(), "clusters", [*_CLUSTER_COLUMNS, ("updated_at", "timestamptz"),
                                           ("merged_into_id", "integer")], described)
    old_clusters = loaded | set(settled)
    gone = [{"b_id": old, "merged_into_id": owned[n]} for old, n in retired.items()]
    emptied = old_clusters - set(owned.values()) - set(retired)
    gone += [{"b_id": old, "merged_into_id": None} for old in emptied]
    if gone:
        bulk.update_rows(session.connection(), "clusters", [("member_count", "integer"),
                                           ("merged_into_id", "integer"),
                                           ("updated_at", "timestamptz")],
                     [(0, g["merged_into_id"], now, g["b_id"]) for g in gone])
        touched.update(g["b_id"] for g in gone)
    # the members of a settled union record that joined an older one follow it
    follow = [{"b_old": old, "cluster_id": owned[n]} for old, n in retired.items()
              if old in settled]
    if follow:
        session.execute(update(table).where(table.c.cluster_id == bindparam("b_old"))
                        .values(cluster_id=bindparam("cluster_id")), follow)

    # members: their union record and why
    record_updates = []
    placed: dict[int, tuple[int, str | None]] = {}
    moved = 0
    for n, group in enumerate(groups):
        if n in unchanged_groups:
            continue
        cid = owned[n]
        for rid in group:
            row = rows[rid]
            evidence = result.evidence.get(rid)
            if row.cluster_id in settled and row.evidence \
                    and not row.evidence.startswith(_LONE):
                evidence = row.evidence  # still true: its match is still beside it
                if row.cluster_id != cid:
                    continue  # moved with its whole union record, above
            if rid in pending:
                placed[rid] = (cid, evidence)
            elif row.cluster_id != cid or row.evidence != evidence:
                record_updates.append((cid, evidence, rid))
                moved += row.cluster_id not in (None, cid)
    if record_updates:
        bulk.update_rows(session.connection(), "source_records", [("cluster_id", "integer"),
                                                 ("match_evidence", "text")], record_updates)
    # the ORM's copies of these rows are stale now
    for obj in list(session.identity_map.values()):
        if isinstance(obj, SourceRecord | Cluster):
            session.expire(obj)
    return {
        "clusters": touched,
        "created": {owned[n] for n in fresh},  # union records made here
        "placed": placed,
        "pending_keys": pending_keys,
        # what describe() said of every record read here, for the search index
        "facts": {rid: row.facts for rid, row in rows.items()},
        "scope": len(rows),
        "groups": len(groups),
        "new_clusters": len(fresh),
        "merged_clusters": len(retired),
        "emptied_clusters": len(gone) - len(retired),
        "records_moved": moved,
        "cluster_seconds": round(time.perf_counter() - t0, 3),
        "cluster_cpu_seconds": round(time.process_time() - cpu0, 3),
        "cluster_read_seconds": round(t_read, 3),
        "cluster_keys_seconds": round(t_keys, 3),
        "cluster_match_seconds": round(t_match, 3),
    }


_LONE = (matching.ALONE_NOTE, matching.THESIS_NOTE)


def _stamp() -> dict:
    from ill.accounts import utcnow

    now = utcnow()
    return {"created_at": now, "updated_at": now}


def refresh_facts(session, batch: int = 500) -> int:
    """Describe every live record again from its stored MARC (after describe()
    changed); returns how many records' facts changed."""
    changed = 0
    last = 0
    table = SourceRecord.__table__
    while True:
        rows = session.execute(select(SourceRecord.id, SourceRecord.marc, SourceRecord.match_data)
                               .where(_LIVE, SourceRecord.id > last)
                               .order_by(SourceRecord.id).limit(batch)).all()
        if not rows:
            return changed
        last = rows[-1].id
        params = []
        for rid, stored, old in rows:
            record = marc.record_from_json(bulk.json_value(stored) or {})
            if record is None:  # a record that cannot be rebuilt keeps its facts
                continue
            new = matching.describe(record)
            if new != old:
                params.append({"b_id": rid, "match_data": new, "title": new["title"],
                               "author": new["author"], "year": new["year"],
                               "isbns": new["isbns"], "issns": new["issns"]})
        if params:
            session.execute(update(table).where(table.c.id == bindparam("b_id"))
                            .values({k: bindparam(k) for k in params[0] if k != "b_id"}),
                            params)
            changed += len(params)


def recluster_all(session, refresh: bool = False) -> dict:
    """Rebuild every key and re-cluster the whole catalogue (after the rules
    change; with refresh, after describe() changed too), keeping ids as an
    import would."""
    refreshed = refresh_facts(session) if refresh else 0
    session.execute(delete(MatchKey))
    ids = set(session.scalars(select(SourceRecord.id).where(_LIVE)))
    return {**_reclustered(session, recluster(session, None, ids, set())), "refreshed": refreshed}


def _reclustered(session, info: dict) -> dict:
    """The search index brought up to date for the union records a
    re-clustering touched (an import does this itself, batch by batch)."""
    info["reindexed"] = search.reindex_clusters(session, info["clusters"], known=info["facts"])
    return info


# --- coordinators' decisions --------------------------------------------------------

def _members(session, cluster_id: int) -> list[SourceRecord]:
    cluster = session.get(Cluster, cluster_id)
    if cluster is None:
        raise NotFound(f"There is no union record {cluster_id}.")
    return list(session.scalars(select(SourceRecord).where(
        SourceRecord.cluster_id == cluster_id, _LIVE).order_by(SourceRecord.id)))


def _ref(record: SourceRecord, codes: dict) -> tuple[str, str]:
    return codes[record.partner_id], record.record_key


def _decide(session, kind: str, a: tuple[str, str], b: tuple[str, str], user=None,
            note: str = "") -> None:
    a, b = min(a, b), max(a, b)
    found = session.scalar(select(ClusterDecision).where(
        ClusterDecision.a_partner == a[0], ClusterDecision.a_key == a[1],
        ClusterDecision.b_partner == b[0], ClusterDecision.b_key == b[1]))
    if found is None:
        found = ClusterDecision(a_partner=a[0], a_key=a[1], b_partner=b[0], b_key=b[1])
        session.add(found)
    found.kind = kind
    found.user_id = getattr(user, "id", None)
    found.note = note or ""
    # a fresh decision's time, so the latest word is known
    from ill.accounts import utcnow

    found.created_at = utcnow()


def split(session, cluster_id: int, record_ids: Iterable[int], user=None, note: str = "") -> dict:
    """Move these members out of the union record into one of their own, for
    good: the decision survives every later import."""
    members = _members(session, cluster_id)
    try:
        moving = {int(i) for i in record_ids}
    except (TypeError, ValueError):
        raise BadRequest("record_ids must be a list of member record ids.", field="record_ids")
    by_id = {m.id: m for m in members}
    if not moving:
        raise BadRequest("Choose at least one member record to move out.", field="record_ids")
    strangers = sorted(moving - set(by_id))
    if strangers:
        raise BadRequest(f"Records {', '.join(map(str, strangers))} are not members of union "
                         f"record {cluster_id}.", field="record_ids")
    if moving == set(by_id):
        raise Conflict("Moving every member out would leave the union record empty; "
                       "leave at least one behind.")
    codes = _partner_codes(session)
    out = [by_id[i] for i in sorted(moving)]
    stay = [m for m in members if m.id not in moving]
    for m in out:
        for s in stay:
            _decide(session, ClusterDecision.APART, _ref(m, codes), _ref(s, codes), user, note)
    for group in (out, stay):
        for m in group[1:]:
            _decide(session, ClusterDecision.TOGETHER, _ref(group[0], codes), _ref(m, codes),
                    user, note)
    session.flush()
    info = _reclustered(session, recluster(session, None, set(), set(), extra_ids=by_id))
    return _outcome(session, info, [m.id for m in members])


def merge(session, cluster_id: int, other_id: int, user=None, note: str = "") -> dict:
    """Join two union records into one, for good; the older id stays."""
    try:
        other_id = int(other_id)
    except (TypeError, ValueError):
        raise BadRequest("other must be the id of another union record.", field="other")
    if other_id == cluster_id:
        raise BadRequest("A union record cannot be merged with itself.", field="other")
    first = _members(session, cluster_id)
    second = _members(session, other_id)
    if not first or not second:
        raise Conflict("A union record whose records were all withdrawn cannot be merged.")
    codes = _partner_codes(session)
    # earlier separations between the two give way to this decision
    refs_first = {_ref(m, codes) for m in first}
    refs_second = {_ref(m, codes) for m in second}
    for d in session.scalars(select(ClusterDecision).where(
            ClusterDecision.kind == ClusterDecision.APART)):
        a, b = (d.a_partner, d.a_key), (d.b_partner, d.b_key)
        if (a in refs_first and b in refs_second) or (a in refs_second and b in refs_first):
            session.delete(d)
    for m in second:
        _decide(session, ClusterDecision.TOGETHER, _ref(first[0], codes), _ref(m, codes), user,
                note)
    for m in first[1:]:
        _decide(session, ClusterDecision.TOGETHER, _ref(second[0], codes), _ref(m, codes), user,
                note)
    session.flush()
    info = _reclustered(session, recluster(session, None, set(), set(),
                                           extra_ids=[m.id for m in first + second]))
    return _outcome(session, info, [m.id for m in first + second])


def _outcome(session, info: dict, record_ids: list[int]) -> dict:
    placed = dict(session.execute(select(SourceRecord.id, SourceRecord.cluster_id)
                                  .where(SourceRecord.id.in_(record_ids))).all())
    clusters: dict[int, list[int]] = {}
    for rid, cid in placed.items():
        clusters.setdefault(cid, []).append(rid)
    return {"clusters": [{"id": cid, "records": sorted(rids)}
                         for cid, rids in sorted(clusters.items())],
            "touched": sorted(info["clusters"])}
