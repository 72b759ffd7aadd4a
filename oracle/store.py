"""SQLite progress store of the oracle service: what it signed and sent, per (chain, oracle, model, round).

The chain is the source of truth. The store only remembers what this service did, so that a restart can tell
"signed, never sent" from "sent, not mined yet" from "on-chain", reuse a transaction's nonce when it was
dropped, and log a report somebody else posted with a different hash. Before every send the service re-reads
`lastPostedRound` and builds only the rounds after it; the contract itself refuses any round that is not the
next one (RoundNotNext), so no order of crashes, restarts or concurrent instances can post a round twice or
leave a gap. The lease row keeps two instances that share one database from both sending: the second one
sees the lease held and skips its run.

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
        self.chain_id, self.oracle, self.clock = chain_id, oracle.lower(), clock

    def close(self):
        self.db.close()

    # ------------------------------------------------------------------ reports
    def record_signed(self, reports, digest) -> None:
        """The reports (oracle.typed_data.Report) were signed as one batch statement with this digest."""
        now = self.clock()
        rows = [(self.chain_id, self.oracle, _hex(r.model_id), r.round, _hex(r.struct_hash()), _hex(digest),
                 now) for r in reports]
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
        query = ("SELECT model_id, round, report_hash, digest, tx_hash, nonce, status FROM reports "
                 "WHERE chain_id = ? AND oracle = ?")
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
            (_hex(tx_hash), self.chain_id, self.oracle, sender.lower(), nonce, kind,
             None if digest is None else _hex(digest), self.clock()),
        )

    def set_tx_status(self, tx_hash, status: str) -> None:
        self.db.execute("UPDATE transactions SET status = ? WHERE tx_hash = ?", (status, _hex(tx_hash)))

    def open_txs(self, sender: str | None = None) -> list[TxRow]:
        """Transactions sent and not yet known to be mined, reverted or dropped."""
        query = ("SELECT tx_hash, sender, nonce, kind, digest, status FROM transactions "
                 "WHERE chain_id = ? AND oracle = ? AND status = 'sent'")
        args: list = [self.chain_id, self.oracle]
        if sender is not None:
            query += " AND sender = ?"
            args.append(sender.lower())
        return [TxRow(*r) for r in self.db.execute(query + " ORDER BY nonce", args)]

    def txs(self) -> list[TxRow]:
        return [TxRow(*r) for r in self.db.execute(
            "SELECT tx_hash, sender, nonce, kind, digest, status FROM transactions "
            "WHERE chain_id = ? AND oracle = ? ORDER BY created_at", (self.chain_id, self.oracle))]

    # ------------------------------------------------------------------ lease
    def _lease_name(self) -> str:
        return f"{self.chain_id}:{self.oracle}"

    def acquire_lease(self, holder: str, ttl: float) -> bool:
        """Take (or renew) the sending lease for this chain and oracle unless another live holder has it."""
        now = self.clock()
        self.db.execute("BEGIN IMMEDIATE")  # one writer at a time: the check and the write are atomic
        try:
            row = self.db.execute("SELECT holder, expires_at FROM lease WHERE name = ?",
                                  (self._lease_name(),)).fetchone()
            if row is not None and row[0] != holder and row[1] > now:
                self.db.execute("COMMIT")
                return False
            self.db.execute("INSERT OR REPLACE INTO lease (name, holder, expires_at) VALUES (?, ?, ?)",
                            (self._lease_name(), holder, now + ttl))
            self.db.execute("COMMIT")
            return True
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def lease_holder(self) -> tuple[str, float] | None:
        row = self.db.execute("SELECT holder, expires_at FROM lease WHERE name = ?",
                              (self._lease_name(),)).fetchone()
        return (row[0], row[1]) if row else None

    def release_lease(self, holder: str) -> None:
        self.db.execute("DELETE FROM lease WHERE name = ? AND holder = ?", (self._lease_name(), holder))
