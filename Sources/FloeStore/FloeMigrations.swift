// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import GRDB

/// The versioned schema of Floe's SQLite database. Migrations run in order at every start; each runs once.
enum FloeMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-control-plane") { db in
            try db.execute(
                sql: """
                    CREATE TABLE control_plane_resource (
                      kind TEXT NOT NULL,
                      id TEXT NOT NULL,
                      organization_id TEXT NOT NULL,
                      environment_id TEXT,
                      sequence INTEGER NOT NULL,
                      body BLOB NOT NULL,
                      PRIMARY KEY (kind, id)
                    );
                    CREATE INDEX control_plane_resource_scope ON control_plane_resource (organization_id, environment_id);
                    """)
        }
        migrator.registerMigration("v2-sequence-counter") { db in
            try db.execute(
                sql: """
                    CREATE TABLE control_plane_counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
                    INSERT INTO control_plane_counter (name, value)
                      SELECT 'sequence', COALESCE(MAX(sequence), 0) FROM control_plane_resource;
                    """)
        }
        migrator.registerMigration("v3-statement-results") { db in
            // One row per result change of a statement incarnation (uid), numbered from 0; the number is the
            // results API's page token, so appends are idempotent (a re-delivered change hits its primary key).
            try db.execute(
                sql: """
                    CREATE TABLE statement_result (
                      statement_uid TEXT NOT NULL,
                      position INTEGER NOT NULL,
                      op INTEGER NOT NULL,
                      row BLOB NOT NULL,
                      PRIMARY KEY (statement_uid, position)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v5-kafka-clusters") { db in
            // The credentials of attached Kafka clusters (SASL user and password, a private TLS CA), apart from the
            // resource bodies in control_plane_resource: those are rendered by the API, these never are. The database
            // file is private to Floe's user (mode 0600); the credentials are not encrypted at rest.
            try db.execute(
                sql: """
                    CREATE TABLE kafka_cluster_secret (
                      cluster_id TEXT PRIMARY KEY,
                      organization_id TEXT NOT NULL,
                      environment_id TEXT NOT NULL,
                      sequence INTEGER NOT NULL,
                      body BLOB NOT NULL
                    );
                    """)
        }
        return migrator
    }
}
