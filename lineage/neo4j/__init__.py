"""The Neo4j backend's query layer: Cypher selects the part of a revision's graph a query
touches (`select`), and the engine's pure functions judge it (`queries.Neo4jQueries`). The
graphs are written by the storage below, `registry.neo4j`."""
