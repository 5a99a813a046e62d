"""The embedded store's SQLite schema and the literal SQL its queries use.

No value ever reaches SQL except as a parameter; `revisions` is append-only (triggers), and a
revision whose `base` is set is stored as the elements it adds to revision `base`
(`registry.delta_revisions`).
"""

from __future__ import annotations

from registry.revisions import Proposal, RevisionInfo, encode, now, require_text  # noqa: F401 (shared by the store)

# 2: revisions.base, for revisions stored as a delta on their parent;
# 3: revisions.signature and .signer (registry.signing)
SCHEMA_VERSION = 3
# Stamped into the SQLite header (PRAGMA application_id) so a flowreg store is recognisable
# even before any table is read; the bytes spell "FlRg".
APPLICATION_ID = 0x466C5267
SQLITE_MAGIC = b"SQLite format 3\x00"
INFO_FIELDS = tuple(RevisionInfo.model_fields)
PROPOSAL_FIELDS = tuple(Proposal.model_fields)
# Column order is the models' field order (rows are zipped onto it). Queries are literal text:
# no value ever reaches SQL except as a parameter.
_INFO = ("number, created_at, author, message, content_hash, parent_hash, hash, signature,"
         " signer")
N_INFO = len(INFO_FIELDS)  # a revision row is its info columns, then content and base
# Literal text (no value ever reaches SQL but as a parameter); the columns are the model's.
assert tuple(_INFO.replace(" ", "").split(",")) == INFO_FIELDS, "keep _INFO in model order"
SELECT_INFO = (
    "SELECT number, created_at, author, message, content_hash, parent_hash, hash, signature,"
    " signer FROM revisions"
)
SELECT_REVISION = (
    "SELECT number, created_at, author, message, content_hash, parent_hash, hash, signature,"
    " signer, content, base FROM revisions"
)
# A given number, or the head when the parameter is NULL.
GET_REVISION = (
    "SELECT number, created_at, author, message, content_hash, parent_hash, hash, signature,"
    " signer, content, base FROM revisions"
    " WHERE number = COALESCE(?, (SELECT MAX(number) FROM revisions))"
)
INSERT_REVISION = (
    "INSERT INTO revisions (number, created_at, author, message, content_hash, parent_hash, hash,"
    " signature, signer, content, base) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The revisions a delta revision is rebuilt from: the last snapshot at or before it, and after.
LAST_SNAPSHOT = "SELECT MAX(number) FROM revisions WHERE number <= ? AND base IS NULL"
DELTAS = "SELECT number, base, content FROM revisions WHERE number > ? AND number <= ? ORDER BY number"
SELECT_PROPOSAL = (
    "SELECT id, base_revision, created_at, author, message, content, status, reviewer,"
    " decided_at, decision_note, applied_revision FROM proposals"
)

SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE revisions (number INTEGER PRIMARY KEY CHECK (number >= 1),
        created_at TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL,
        content TEXT NOT NULL, content_hash TEXT NOT NULL, parent_hash TEXT,
        hash TEXT NOT NULL UNIQUE,
        base INTEGER CHECK (base IS NULL OR base = number - 1), signature TEXT, signer TEXT)""",
    """CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
        BEGIN SELECT RAISE(ABORT, 'flowreg revisions are append-only'); END""",
    """CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
        BEGIN SELECT RAISE(ABORT, 'flowreg revisions are append-only'); END""",
    # Defence in depth: even a buggy writer cannot insert anywhere but right after the head.
    """CREATE TRIGGER revisions_extend_head BEFORE INSERT ON revisions
        WHEN NEW.number != COALESCE((SELECT MAX(number) FROM revisions), 0) + 1
          OR NEW.parent_hash IS NOT (SELECT hash FROM revisions WHERE number = NEW.number - 1)
        BEGIN SELECT RAISE(ABORT, 'a revision must extend the head'); END""",
    """CREATE TABLE proposals (id INTEGER PRIMARY KEY AUTOINCREMENT, base_revision INTEGER,
        created_at TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL,
        content TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected')), reviewer TEXT, decided_at TEXT,
        decision_note TEXT NOT NULL DEFAULT '',
        applied_revision INTEGER REFERENCES revisions(number))""",
    "CREATE INDEX proposals_by_status ON proposals (status, id)",
    # A proposal is decided once; what was proposed never changes.
    """CREATE TRIGGER proposals_decide_once BEFORE UPDATE ON proposals
        WHEN OLD.status != 'pending' OR NEW.content IS NOT OLD.content
          OR NEW.author IS NOT OLD.author OR NEW.message IS NOT OLD.message
          OR NEW.base_revision IS NOT OLD.base_revision OR NEW.created_at IS NOT OLD.created_at
        BEGIN SELECT RAISE(ABORT, 'a decided proposal cannot change'); END""",
    """CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
        BEGIN SELECT RAISE(ABORT, 'flowreg proposals are kept'); END""",
)
TRIGGERS = frozenset(sql.split()[2] for sql in SCHEMA if sql.startswith("CREATE TRIGGER"))
