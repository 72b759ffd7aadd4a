"""SQLite progress store of the oracle service: what it signed and sent, per (chain, oracle, model, round).

The chain is the source of truth. The store only remembers what this service did, so that a restart can tell
"signed, never sent" from "sent, not mined yet" from "on-chain", reuse a transaction's nonce when it was
dropped, and log a report somebody else posted with a different hash. Before every send the service re-reads
`lastPostedRound` and builds only the rounds after it; the contract itself refuses any round that is not the
next one (RoundNotNext), so no order of crashes, restarts or concurrent instances can post a round twice or
leave a gap. The lease row keeps two instances that share one database from both sending: the second one
sees the lease held and skips its run.

The round ledger (table `ledger`) is the service's memory of what the source said: each (model, round)'s
resolved values and report hash, the first time they were seen. A later answer with other values is not signed:
it is recorded in `corrections` and reported, and only an operator's explicit `backing oracle ledger accept`
makes it the ledger's value (it survives restarts and is shared by every instance on the database).

Report statuses: signed -> sent -> posted (our hash on-chain) | posted_other (a different hash is on-chain:
someone else posted; worth a look, maybe a dispute). Transaction statuses: sent -> mined | reverted | dropped.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS reports (
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    model_id     TEXT    NOT NULL,   -- 0x + 64 hex
    round        INTEGER NOT NULL,
    report_hash  TEXT    NOT NULL,   -- EIP-712 struct hash of the report we signed
    digest       TEXT,               -- digest of the batch statement the signatures are over
    tx_hash      TEXT,
    nonce        INTEGER,
    status       TEXT    NOT NULL,
    updated_at   REAL    NOT NULL,
    PRIMARY KEY (chain_id, oracle, model_id, round)
);
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash      TEXT    PRIMARY KEY,
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    sender       TEXT    NOT NULL,
    nonce        INTEGER NOT NULL,
    kind         TEXT    NOT NULL,   -- announce | post | finalize | attest
    digest       TEXT,
    status       TEXT    NOT NULL,
    created_at   REAL    NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger (
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    model_id     TEXT    NOT NULL,
    round        INTEGER NOT NULL,
    report_hash  TEXT    NOT NULL,
    missed       INTEGER NOT NULL,
    report_json  TEXT    NOT NULL,   -- the report's fields as exact decimals, for a human comparing values
    recorded_at  REAL    NOT NULL,
    PRIMARY KEY (chain_id, oracle, model_id, round)
);
CREATE TABLE IF NOT EXISTS corrections (
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    model_id     TEXT    NOT NULL,
    round        INTEGER NOT NULL,
    old_hash     TEXT    NOT NULL,
    new_hash     TEXT    NOT NULL,   -- 'unresolved' when the source took the round back
    new_missed   INTEGER,
    new_json     TEXT,
    seen_at      REAL    NOT NULL,
    status       TEXT    NOT NULL,   -- open | applied
    PRIMARY KEY (chain_id, oracle, model_id, round, new_hash)
);
CREATE TABLE IF NOT EXISTS refusals (
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    digest       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    refused_at   REAL    NOT NULL,
    PRIMARY KEY (chain_id, oracle, digest)
);
CREATE TABLE IF NOT EXISTS meta (
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    value        TEXT    NOT NULL,
    PRIMARY KEY (chain_id, oracle, key)
);
CREATE TABLE IF NOT EXISTS models (
    chain_id     INTEGER NOT NULL,
    oracle       TEXT    NOT NULL,
    model_id     TEXT    NOT NULL,
    modeller     TEXT    NOT NULL,
    block        INTEGER NOT NULL,
    PRIMARY KEY (chain_id, oracle, model_id)
);
CREATE TABLE IF NOT EXISTS lease (
    name         TEXT    PRIMARY KEY,
    holder       TEXT    NOT NULL,
    expires_at   REAL    NOT NULL
);
"""


@dataclass(frozen=True)
class ReportRow:
    model_id: str
    round: int
    report_hash: str
    digest: str | None
    tx_hash: str | None
    nonce: int | None
    status: str


@dataclass(frozen=True)
class TxRow:
    tx_hash: str
    sender: str
    nonce: int
    kind: str
    digest: str | None
    status: str
    created_at: float = 0.0
    block: int | None = None


@dataclass(frozen=True)
class Correction:
    model_id: str
    round: int
    old_hash: str
    new_hash: str  # 'unresolved': the source took the round back
    new_json: str | None
    seen_at: float
    status: str


def _hex(value) -> str:
    if isinstance(value, str):
        return value.lower() if value.startswith("0x") else "0x" + value.lower()
    return "0x" + bytes(value).hex()


class ProgressStore:
    """One SQLite file; rows are scoped by chain id and oracle address, so one file may serve several."""

    def __init__(self, path: str, chain_id: int, oracle: str, clock=time.time):
        # autocommit; the lease takes an explicit IMMEDIATE transaction. WAL lets readers run beside a writer.
        self.db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA busy_timeout=30000")
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(transactions)")}
        if "block" not in columns:  # databases of earlier versions
            self.db.execute("ALTER TABLE transactions ADD COLUMN block INTEGER")
        self.chain_id, self.oracle, self.clock = chain_id, oracle.lower(), clock

    def close(self):
        self.db.close()

    # ------------------------------------------------------------------ reports
    def record_signed(self, reports, digest) -> None:
        """The reports (oracle.typed_data.Report) were signed as one batch statement with this digest."""
        now = self.clock()
        rows = [
            (self.chain_id, self.oracle, _hex(r.model_id), r.round, _hex(r.struct_hash()), _hex(digest), now)
            for r in reports
        ]
        # a re-signed round (new deadline after a crash or an expired batch) replaces its earlier row, but never
        # one already confirmed on-chain
        self.db.executemany(
            "INSERT INTO reports (chain_id, oracle, model_id, round, report_hash, digest, status, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'signed', ?) "
            "ON CONFLICT (chain_id, oracle, model_id, round) DO UPDATE SET "
            "report_hash = excluded.report_hash, digest = excluded.digest, tx_hash = NULL, nonce = NULL, "
            "status = 'signed', updated_at = excluded.updated_at "
            "WHERE reports.status NOT IN ('posted', 'posted_other')",
            rows,
        )

    def record_sent(self, reports, tx_hash, nonce: int) -> None:
        now = self.clock()
        self.db.executemany(
            "UPDATE reports SET tx_hash = ?, nonce = ?, status = 'sent', updated_at = ? "
            "WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round = ? AND status IN ('signed', 'sent')",
            [(_hex(tx_hash), nonce, now, self.chain_id, self.oracle, _hex(r.model_id), r.round) for r in reports],
        )

    def record_on_chain(self, model_id, round_: int, onchain_hash) -> str | None:
        """The round is on-chain with `onchain_hash`. @return the new status of our row (None: we had none)."""
        row = self.report(model_id, round_)
        if row is None:
            return None
        status = "posted" if row.report_hash == _hex(onchain_hash) else "posted_other"
        self.db.execute(
            "UPDATE reports SET status = ?, updated_at = ? "
            "WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round = ?",
            (status, self.clock(), self.chain_id, self.oracle, _hex(model_id), round_),
        )
        return status

    def report(self, model_id, round_: int) -> ReportRow | None:
        row = self.db.execute(
            "SELECT model_id, round, report_hash, digest, tx_hash, nonce, status FROM reports "
            "WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round = ?",
            (self.chain_id, self.oracle, _hex(model_id), round_),
        ).fetchone()
        return ReportRow(*row) if row else None

    def reports(self, model_id=None, statuses=None) -> list[ReportRow]:
        query = (
            "SELECT model_id, round, report_hash, digest, tx_hash, nonce, status FROM reports "
            "WHERE chain_id = ? AND oracle = ?"
        )
        args: list = [self.chain_id, self.oracle]
        if model_id is not None:
            query += " AND model_id = ?"
            args.append(_hex(model_id))
        if statuses:
            query += f" AND status IN ({', '.join('?' * len(statuses))})"
            args.extend(statuses)
        return [ReportRow(*r) for r in self.db.execute(query + " ORDER BY model_id, round", args)]

    # ------------------------------------------------------------------ transactions
    def record_tx(self, tx_hash, sender: str, nonce: int, kind: str, digest=None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO transactions (tx_hash, chain_id, oracle, sender, nonce, kind, digest, status, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'sent', ?)",
            (
                _hex(tx_hash),
                self.chain_id,
                self.oracle,
                sender.lower(),
                nonce,
                kind,
                None if digest is None else _hex(digest),
                self.clock(),
            ),
        )

    def set_tx_status(self, tx_hash, status: str) -> None:
        self.db.execute("UPDATE transactions SET status = ? WHERE tx_hash = ?", (status, _hex(tx_hash)))

    def open_txs(self, sender: str | None = None) -> list[TxRow]:
        """Transactions sent and not yet known to be mined, reverted or dropped."""
        query = (
            "SELECT tx_hash, sender, nonce, kind, digest, status, created_at, block FROM transactions "
            "WHERE chain_id = ? AND oracle = ? AND status = 'sent'"
        )
        args: list = [self.chain_id, self.oracle]
        if sender is not None:
            query += " AND sender = ?"
            args.append(sender.lower())
        return [TxRow(*r) for r in self.db.execute(query + " ORDER BY nonce", args)]

    def txs(self) -> list[TxRow]:
        return [
            TxRow(*r)
            for r in self.db.execute(
                "SELECT tx_hash, sender, nonce, kind, digest, status, created_at, block FROM transactions "
                "WHERE chain_id = ? AND oracle = ? ORDER BY created_at",
                (self.chain_id, self.oracle),
            )
        ]

    def txs_with_status(self, status: str) -> list[TxRow]:
        return [
            TxRow(*r)
            for r in self.db.execute(
                "SELECT tx_hash, sender, nonce, kind, digest, status, created_at, block FROM transactions "
                "WHERE chain_id = ? AND oracle = ? AND status = ? ORDER BY nonce",
                (self.chain_id, self.oracle, status),
            )
        ]

    def set_tx_block(self, tx_hash, block: int | None) -> None:
        self.db.execute("UPDATE transactions SET block = ? WHERE tx_hash = ?", (block, _hex(tx_hash)))

    # ------------------------------------------------------------------ the round ledger
    def ledger_entry(self, model_id, round_: int) -> tuple[str, bool, str] | None:
        """(report hash, missed, report JSON) the ledger holds for the round, or None."""
        row = self.db.execute(
            "SELECT report_hash, missed, report_json FROM ledger "
            "WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round = ?",
            (self.chain_id, self.oracle, _hex(model_id), round_),
        ).fetchone()
        return (row[0], bool(row[1]), row[2]) if row else None

    def ledger_record(self, model_id, round_: int, report_hash, missed: bool, report_json: str) -> str | None:
        """Record a resolved round the first time it is seen. @return the ledger's hash when it holds ANOTHER
        one for the round (the new values are then recorded as an open correction), else None."""
        held = self.ledger_entry(model_id, round_)
        if held is None:
            self.db.execute(
                "INSERT OR IGNORE INTO ledger (chain_id, oracle, model_id, round, report_hash, missed, report_json, "
                "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.chain_id,
                    self.oracle,
                    _hex(model_id),
                    round_,
                    _hex(report_hash),
                    int(missed),
                    report_json,
                    self.clock(),
                ),
            )
            return None
        if held[0] == _hex(report_hash):
            return None
        self._correction(model_id, round_, held[0], _hex(report_hash), missed, report_json)
        return held[0]

    def ledger_unresolved(self, model_id, round_: int) -> None:
        """The source says a round the ledger holds as resolved is not resolved: an open correction."""
        held = self.ledger_entry(model_id, round_)
        if held is not None:
            self._correction(model_id, round_, held[0], "unresolved", None, None)

    def _correction(self, model_id, round_, old_hash, new_hash, missed, report_json) -> None:
        self.db.execute(
            "INSERT INTO corrections (chain_id, oracle, model_id, round, old_hash, new_hash, new_missed, new_json, "
            "seen_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open') "
            "ON CONFLICT DO UPDATE SET status = 'open' WHERE corrections.status != 'open'",
            (
                self.chain_id,
                self.oracle,
                _hex(model_id),
                round_,
                old_hash,
                new_hash,
                None if missed is None else int(missed),
                report_json,
                self.clock(),
            ),
        )

    def ledger_rounds(self, model_id, after_round: int = 0) -> list[int]:
        return [
            r
            for (r,) in self.db.execute(
                "SELECT round FROM ledger WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round > ?"
                " ORDER BY round",
                (self.chain_id, self.oracle, _hex(model_id), after_round),
            )
        ]

    def ledger_scored_rounds(self, model_id) -> set[int]:
        """Rounds of the model the ledger holds with scores (not missed)."""
        return {
            r
            for (r,) in self.db.execute(
                "SELECT round FROM ledger WHERE chain_id = ? AND oracle = ? AND model_id = ? AND missed = 0",
                (self.chain_id, self.oracle, _hex(model_id)),
            )
        }

    def ledger_last_round(self, model_id) -> int | None:
        row = self.db.execute(
            "SELECT MAX(round) FROM ledger WHERE chain_id = ? AND oracle = ? AND model_id = ?",
            (self.chain_id, self.oracle, _hex(model_id)),
        ).fetchone()
        return row[0]

    def corrections(self, status: str | None = "open", model_id=None) -> list[Correction]:
        query = (
            "SELECT model_id, round, old_hash, new_hash, new_json, seen_at, status FROM corrections "
            "WHERE chain_id = ? AND oracle = ?"
        )
        args: list = [self.chain_id, self.oracle]
        if status is not None:
            query += " AND status = ?"
            args.append(status)
        if model_id is not None:
            query += " AND model_id = ?"
            args.append(_hex(model_id))
        return [Correction(*r) for r in self.db.execute(query + " ORDER BY model_id, round", args)]

    def apply_correction(self, model_id, round_: int) -> Correction | None:
        """The operator's decision: the round's open correction becomes the ledger's value (an un-resolve
        removes the round from the ledger). @return the applied correction, None when there is none."""
        open_ = [c for c in self.corrections("open", model_id) if c.round == round_]
        if not open_:
            return None
        latest = max(open_, key=lambda c: c.seen_at)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            key = (self.chain_id, self.oracle, _hex(model_id), round_)
            if latest.new_hash == "unresolved":
                self.db.execute(
                    "DELETE FROM ledger WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round = ?", key
                )
            else:
                missed = self.db.execute(
                    "SELECT new_missed FROM corrections WHERE chain_id = ? AND oracle = ? AND model_id = ? "
                    "AND round = ? AND new_hash = ?",
                    (*key, latest.new_hash),
                ).fetchone()[0]
                self.db.execute(
                    "UPDATE ledger SET report_hash = ?, missed = ?, report_json = ?, recorded_at = ? "
                    "WHERE chain_id = ? AND oracle = ? AND model_id = ? AND round = ?",
                    (latest.new_hash, missed, latest.new_json, self.clock(), *key),
                )
            self.db.execute(
                "UPDATE corrections SET status = 'applied' WHERE chain_id = ? AND oracle = ? "
                "AND model_id = ? AND round = ? AND status = 'open'",
                key,
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return latest

    # ------------------------------------------------------------------ refusals, registrations, meta
    def record_refusal(self, digest, reason: str) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO refusals (chain_id, oracle, digest, reason, refused_at) " "VALUES (?, ?, ?, ?, ?)",
            (self.chain_id, self.oracle, _hex(digest), reason, self.clock()),
        )

    def refusal(self, digest) -> str | None:
        row = self.db.execute(
            "SELECT reason FROM refusals WHERE chain_id = ? AND oracle = ? AND digest = ?",
            (self.chain_id, self.oracle, _hex(digest)),
        ).fetchone()
        return row[0] if row else None

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute(
            "SELECT value FROM meta WHERE chain_id = ? AND oracle = ? AND key = ?", (self.chain_id, self.oracle, key)
        ).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO meta (chain_id, oracle, key, value) VALUES (?, ?, ?, ?)",
            (self.chain_id, self.oracle, key, str(value)),
        )

    def record_model(self, model_id, modeller: str, block: int) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO models (chain_id, oracle, model_id, modeller, block) " "VALUES (?, ?, ?, ?, ?)",
            (self.chain_id, self.oracle, _hex(model_id), modeller, block),
        )

    def known_models(self) -> list[tuple[str, str]]:
        """(model id hex, modeller) of every registration scanned so far, in registration order."""
        return list(
            self.db.execute(
                "SELECT model_id, modeller FROM models WHERE chain_id = ? AND oracle = ? " "ORDER BY block, model_id",
                (self.chain_id, self.oracle),
            )
        )

    # ------------------------------------------------------------------ lease
    def _lease_name(self) -> str:
        return f"{self.chain_id}:{self.oracle}"

    def acquire_lease(self, holder: str, ttl: float) -> bool:
        """Take (or renew) the sending lease for this chain and oracle unless another live holder has it."""
        now = self.clock()
        self.db.execute("BEGIN IMMEDIATE")  # one writer at a time: the check and the write are atomic
        try:
            row = self.db.execute(
                "SELECT holder, expires_at FROM lease WHERE name = ?", (self._lease_name(),)
            ).fetchone()
            if row is not None and row[0] != holder and row[1] > now:
                self.db.execute("COMMIT")
                return False
            self.db.execute(
                "INSERT OR REPLACE INTO lease (name, holder, expires_at) VALUES (?, ?, ?)",
                (self._lease_name(), holder, now + ttl),
            )
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def lease_holder(self) -> tuple[str, float] | None:
        row = self.db.execute("SELECT holder, expires_at FROM lease WHERE name = ?", (self._lease_name(),)).fetchone()
        return (row[0], row[1]) if row else None

    def release_lease(self, holder: str) -> None:
        self.db.execute("DELETE FROM lease WHERE name = ? AND holder = ?", (self._lease_name(), holder))
