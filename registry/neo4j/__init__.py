"""The Neo4j backend's storage: revisions, proposals and each revision's materialised graph on a
Neo4j server (`store.Neo4jStore`). It knows the registry only, never the engine: the queries
that read these graphs live above it, in `lineage.neo4j`."""
