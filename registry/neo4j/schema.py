"""The Neo4j store's schema: the allow-list of labels and relationship types, the constraints
and indexes it creates, and the Cypher texts the store shares between its parts.

Cypher cannot take a label or a relationship type as a parameter, so every query text is a
literal built only from the names here; every value is a parameter.
"""

from __future__ import annotations

from registry.revisions import Proposal, RevisionInfo, encode, now, require_text  # noqa: F401 (shared by the store)

SCHEMA_VERSION = 2  # 2: delta revisions (`base`), graphs made of several revisions' elements (`graph_revs`)
BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
INFO_FIELDS = tuple(RevisionInfo.model_fields)
PROPOSAL_FIELDS = tuple(Proposal.model_fields)

# The fixed allow-list of labels and relationship types.
NODE_LABELS: dict[str, str] = {
    "categories": "Category", "subjects": "Subject", "parties": "Party",
    "systems": "System", "mechanisms": "Mechanism", "rules": "Rule",
    "agreements": "Agreement", "assessments": "Assessment",
}
REL_TYPES = ("FLOW", "CARRIES", "OWNED_BY", "PARENT_OF", "BINDS")

# name -> statement; created when missing, and `verify` reports any that were dropped.
SCHEMA: dict[str, str] = {
    "flowreg_meta_key": "CREATE CONSTRAINT flowreg_meta_key IF NOT EXISTS"
    " FOR (m:FlowregMeta) REQUIRE m.key IS UNIQUE",
    "flowreg_revision_number": "CREATE CONSTRAINT flowreg_revision_number IF NOT EXISTS"
    " FOR (r:Revision) REQUIRE r.number IS UNIQUE",
    "flowreg_revision_hash": "CREATE CONSTRAINT flowreg_revision_hash IF NOT EXISTS"
    " FOR (r:Revision) REQUIRE r.hash IS UNIQUE",
    "flowreg_proposal_id": "CREATE CONSTRAINT flowreg_proposal_id IF NOT EXISTS"
    " FOR (p:Proposal) REQUIRE p.id IS UNIQUE",
    "flowreg_element_key": "CREATE CONSTRAINT flowreg_element_key IF NOT EXISTS"
    " FOR (n:Element) REQUIRE (n.rev, n.id) IS UNIQUE",
    "flowreg_flow_key": "CREATE CONSTRAINT flowreg_flow_key IF NOT EXISTS"
    " FOR ()-[f:FLOW]-() REQUIRE (f.rev, f.id) IS UNIQUE",
    "flowreg_carries_key": "CREATE CONSTRAINT flowreg_carries_key IF NOT EXISTS"
    " FOR ()-[k:CARRIES]-() REQUIRE (k.rev, k.flow, k.used) IS UNIQUE",
    "flowreg_parent_key": "CREATE CONSTRAINT flowreg_parent_key IF NOT EXISTS"
    " FOR ()-[p:PARENT_OF]-() REQUIRE (p.rev, p.child) IS UNIQUE",
    "flowreg_owner_key": "CREATE CONSTRAINT flowreg_owner_key IF NOT EXISTS"
    " FOR ()-[o:OWNED_BY]-() REQUIRE (o.rev, o.system) IS UNIQUE",
    "flowreg_binds_key": "CREATE CONSTRAINT flowreg_binds_key IF NOT EXISTS"
    " FOR ()-[b:BINDS]-() REQUIRE (b.rev, b.mechanism, b.member) IS UNIQUE",
}
INDEXES: dict[str, str] = {
    # "flows that carry category c": an index seek on (rev, used), see registry.neo4j.graph.
    "flowreg_carries_used": "CREATE INDEX flowreg_carries_used IF NOT EXISTS"
    " FOR ()-[k:CARRIES]-() ON (k.rev, k.used)",
    "flowreg_flow_rev": "CREATE INDEX flowreg_flow_rev IF NOT EXISTS FOR ()-[f:FLOW]-() ON (f.rev)",
    "flowreg_element_kind": "CREATE INDEX flowreg_element_kind IF NOT EXISTS"
    " FOR (n:Element) ON (n.rev, n.kind)",
}

REVISION_FIELDS = (
    "r.number AS number, r.created_at AS created_at, r.author AS author, r.message AS message,"
    " r.content_hash AS content_hash, r.parent_hash AS parent_hash, r.hash AS hash,"
    " r.signature AS signature, r.signer AS signer"
)
HEAD = "MATCH (r:Revision) RETURN " + REVISION_FIELDS + " ORDER BY r.number DESC LIMIT 1"
# Taking the meta node's write lock first serialises every writer for the whole transaction.
LOCK = "MATCH (m:FlowregMeta {key: 'store'}) SET m.writes = coalesce(m.writes, 0) + 1 RETURN m"
PROPOSAL_RETURN = (
    "RETURN p.id AS id, p.base_revision AS base_revision, p.created_at AS created_at,"
    " p.author AS author, p.message AS message, p.content AS content, p.status AS status,"
    " p.reviewer AS reviewer, p.decided_at AS decided_at, p.decision_note AS decision_note,"
    " p.applied_revision AS applied_revision"
)
