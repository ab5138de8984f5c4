import SQLKit

/// A browser session as stored: by the sha256 of its id, never the id itself.
struct StoredWebSession: Sendable {
    var user: User
    var createdAt: Timestamp
    var lastSeenAt: Timestamp
}

extension MetadataStore {
    func insertWebSession(idDigest: String, userID: UserID, replacing oldDigest: String?, at now: Timestamp) async throws {
        try await self.database.transaction { db in
            if let oldDigest { try await db.raw("DELETE FROM web_sessions WHERE id_digest = \(bind: oldDigest)").run() }
            try await db.raw(
                """
                INSERT INTO web_sessions (id_digest, user_id, created_at, last_seen_at)
                VALUES (\(bind: idDigest), \(bind: userID), \(bind: now.microseconds), \(bind: now.microseconds))
                """
            ).run()
        }
    }

    func webSession(idDigest: String) async throws -> StoredWebSession? {
        try await self.database.read { db in
            guard
                let row = try await db.raw(
                    """
                    SELECT users.*, web_sessions.created_at AS session_created_at, web_sessions.last_seen_at AS session_last_seen_at
                    FROM web_sessions JOIN users ON users.id = web_sessions.user_id
                    WHERE web_sessions.id_digest = \(bind: idDigest)
                    """
                ).first()
            else { return nil }
            return StoredWebSession(
                user: try row.user(),
                createdAt: Timestamp(microseconds: try row.decode(column: "session_created_at", as: Int64.self)),
                lastSeenAt: Timestamp(microseconds: try row.decode(column: "session_last_seen_at", as: Int64.self))
            )
        }
    }

    func touchWebSession(idDigest: String, at now: Timestamp) async throws {
        try await self.database.transaction { db in
            try await db.raw("UPDATE web_sessions SET last_seen_at = \(bind: now.microseconds) WHERE id_digest = \(bind: idDigest)").run()
        }
    }

    /// Deletes the session, and with it every session that has expired (so the table stays the
    /// size of the sessions in use).
    func deleteWebSession(idDigest: String, expiredBefore idleCutoff: Timestamp, createdBefore absoluteCutoff: Timestamp) async throws {
        try await self.database.transaction { db in
            try await db.raw(
                """
                DELETE FROM web_sessions WHERE id_digest = \(bind: idDigest)
                OR last_seen_at < \(bind: idleCutoff.microseconds) OR created_at < \(bind: absoluteCutoff.microseconds)
                """
            ).run()
        }
    }

    // MARK: Sign-in attempts

    /// Counts one attempt against each key (a key whose window is over starts a new one) and
    /// returns each key's count and window start, in one transaction: concurrent attempts each see
    /// their own count, so a burst cannot all slip in under the limit.
    func countSignInAttempt(
        keys: [String],
        at now: Timestamp,
        windowStartedAfter cutoff: Timestamp
    ) async throws
        -> [String: (failures: Int, windowStart: Timestamp)]
    {
        try await self.database.transaction { db in
            var counts: [String: (failures: Int, windowStart: Timestamp)] = [:]
            for key in keys {
                let row = try await db.raw(
                    """
                    INSERT INTO sign_in_failures (throttle_key, failures, window_start)
                    VALUES (\(bind: key), 1, \(bind: now.microseconds))
                    ON CONFLICT (throttle_key) DO UPDATE SET
                        failures = CASE WHEN sign_in_failures.window_start < \(bind: cutoff.microseconds) THEN 1
                                        ELSE sign_in_failures.failures + 1 END,
                        window_start = CASE WHEN sign_in_failures.window_start < \(bind: cutoff.microseconds) THEN \(bind: now.microseconds)
                                            ELSE sign_in_failures.window_start END
                    RETURNING failures, window_start
                    """
                ).first()!
                counts[key] = (
                    try row.decode(column: "failures", as: Int.self),
                    Timestamp(microseconds: try row.decode(column: "window_start", as: Int64.self))
                )
            }
            return counts
        }
    }

    /// Forgets keys whose window is over (so the table holds only the windows still open).
    func removeExpiredSignInCounts(windowStartedBefore cutoff: Timestamp) async throws {
        try await self.database.transaction { db in
            try await db.raw("DELETE FROM sign_in_failures WHERE window_start < \(bind: cutoff.microseconds)").run()
        }
    }

    /// Takes one attempt back from a key (a sign-in that worked is not held against its address).
    func uncountSignInAttempt(key: String) async throws {
        try await self.database.transaction { db in
            try await db.raw("UPDATE sign_in_failures SET failures = failures - 1 WHERE throttle_key = \(bind: key) AND failures > 0").run()
        }
    }

    func clearSignInFailures(key: String) async throws {
        try await self.database.transaction { db in
            try await db.raw("DELETE FROM sign_in_failures WHERE throttle_key = \(bind: key)").run()
        }
    }
}
