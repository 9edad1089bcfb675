import GridSyncCore
import Logging
import PostgresNIO

/// The district database's tables, created and upgraded by named migrations (docs/DISTRICT.md
/// describes each table for the analysts and their BI tools). A migration, once released, is
/// frozen: a change to the tables is a new migration at the end of the list.
public enum DistrictSchema {
    public struct Migration: Sendable {
        public let name: String
        public let statements: [String]
    }

    public static let migrations: [Migration] = [
        Migration(name: "v1-district-tables", statements: [
            """
            CREATE TABLE communities (
                community_id   TEXT PRIMARY KEY,        -- the community's ID (gridsync id)
                name           TEXT NOT NULL,           -- the centre's name
                pushed_through BIGINT NOT NULL,         -- the centre's change log, pushed up to here (the checkpoint)
                pushed_at      TIMESTAMPTZ NOT NULL     -- when the last push committed
            )
            """,
            """
            CREATE TABLE requests (
                community_id     TEXT NOT NULL,        -- communities.community_id (not a foreign key: a check per row halved the push rate)
                request_id       TEXT NOT NULL,
                grid             TEXT NOT NULL,
                building         TEXT NOT NULL,
                category         TEXT NOT NULL,
                due              DATE,
                urgent           BOOLEAN NOT NULL,
                status           TEXT NOT NULL,        -- submitted, accepted, assigned, in_progress, resolved, rated, rejected, withdrawn
                assigned_service TEXT,                 -- services.service_id
                satisfaction     TEXT,                 -- satisfied, basically_satisfied, dissatisfied
                created_at       TIMESTAMPTZ,
                accepted_at      TIMESTAMPTZ,
                assigned_at      TIMESTAMPTZ,
                started_at       TIMESTAMPTZ,
                resolved_at      TIMESTAMPTZ,
                rated_at         TIMESTAMPTZ,
                closed_at        TIMESTAMPTZ,
                deleted          BOOLEAN NOT NULL,     -- deleted at the centre: counted nowhere
                PRIMARY KEY (community_id, request_id)
            )
            """,
            "CREATE INDEX requests_by_created ON requests (created_at)",
            """
            CREATE TABLE services (
                community_id  TEXT NOT NULL,
                service_id    TEXT NOT NULL,
                name          TEXT NOT NULL,
                provider_kind TEXT,                    -- centre, unit, volunteer, organisation
                category      TEXT,
                grid          TEXT,
                status        TEXT,
                created_at    TIMESTAMPTZ,
                deleted       BOOLEAN NOT NULL,
                PRIMARY KEY (community_id, service_id)
            )
            """,
        ]),
        Migration(name: "v2-status-history-and-service-use", statements: [
            // Each step of a request's handling with its time, one row per step taken: what
            // a BI tool charts as a status history.
            """
            CREATE VIEW status_history AS
            SELECT community_id, request_id, grid, building, category, step, at FROM requests
            CROSS JOIN LATERAL (VALUES
                ('submitted', created_at), ('accepted', accepted_at), ('assigned', assigned_at), ('in_progress', started_at),
                ('resolved', resolved_at), ('rated', rated_at), ('closed', closed_at)
            ) AS s (step, at)
            WHERE NOT deleted AND at IS NOT NULL
            """,
            // 服务人次: how many requests each service was dispatched to and resolved, per month
            // of creation.
            """
            CREATE VIEW service_use AS
            SELECT r.community_id, r.assigned_service AS service_id, s.name, s.provider_kind,
                   date_trunc('month', r.created_at) AS month,
                   count(*) AS dispatched,
                   count(*) FILTER (WHERE r.status IN ('resolved', 'rated')) AS served
            FROM requests r LEFT JOIN services s ON s.community_id = r.community_id AND s.service_id = r.assigned_service
            WHERE NOT r.deleted AND r.assigned_service IS NOT NULL
            GROUP BY r.community_id, r.assigned_service, s.name, s.provider_kind, date_trunc('month', r.created_at)
            """,
        ]),
    ]

    /// Applies the migrations the database lacks, each in the transaction that records it,
    /// one pusher at a time (an advisory lock): two centres starting at once do not race.
    static func migrate(_ conn: PostgresConnection, logger: Logger) async throws {
        try await conn.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(7305061)", logger: logger)
            // Looked up first: CREATE … IF NOT EXISTS needs the CREATE privilege even when the
            // table is there, and a centre's role need not have it (docs/DISTRICT.md).
            var exists = false
            for try await v in try await conn.query("SELECT to_regclass('gridsync_migrations') IS NOT NULL", logger: logger).decode(Bool.self) {
                exists = v
            }
            if !exists {
                try await conn.query("""
                    CREATE TABLE gridsync_migrations (
                        name TEXT PRIMARY KEY,
                        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
            }
            var applied = Set<String>()
            for try await name in try await conn.query("SELECT name FROM gridsync_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            let known = Set(migrations.map(\.name))
            if let unknown = applied.subtracting(known).sorted().first {
                throw GridSyncError(.notPermitted, Localized(
                    "区级数据库已由更新版本的 gridsync 升级（迁移 \(unknown)）；请升级本机的 gridsync",
                    en: "the district database was upgraded by a newer gridsync (migration \(unknown)); upgrade gridsync here"))
            }
            for m in migrations where !applied.contains(m.name) {
                for sql in m.statements { try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                try await conn.query("INSERT INTO gridsync_migrations (name) VALUES (\(m.name))", logger: logger)
                logger.info("district database: applied migration \(m.name)")
            }
        }
    }
}
