import Foundation

/// `manifest.json` of a backup: what it holds and the checksum of every file, so that `restore`
/// can prove the backup whole before it puts anything in place. It is written last (a directory
/// without it is an unfinished backup, and `restore` refuses it).
public struct BackupManifest: Codable, Sendable, Equatable {
    public static let fileName = "manifest.json"
    public static let databaseFileName = "wheelhouse.sqlite"
    public static let blobsDirectory = "blobs"
    /// The layout this code writes and reads; a newer one is refused rather than half understood.
    public static let currentFormat = 1

    public struct File: Codable, Sendable, Equatable {
        public var sha256: String
        public var size: Int64
    }

    public struct Database: Codable, Sendable, Equatable {
        /// Relative to the backup directory.
        public var file: String
        public var sha256: String
        public var size: Int64
        /// Which database the backup was taken from (`sqlite` or `postgres`); the copy is SQLite either way.
        public var source: String
    }

    public var formatVersion: Int
    /// RFC 3339, UTC.
    public var createdAt: String
    public var wheelhouseVersion: String
    public var schemaVersion: Int
    public var database: Database
    /// Every blob the database copy refers to, under `blobs/` in the blob store's layout
    /// (`sha256/ab/cd/<sha256>`), sorted by sha256.
    public var blobs: [File]

    enum CodingKeys: String, CodingKey {
        case formatVersion = "format_version"
        case createdAt = "created_at"
        case wheelhouseVersion = "wheelhouse_version"
        case schemaVersion = "schema_version"
        case database, blobs
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> BackupManifest {
        try JSONDecoder().decode(BackupManifest.self, from: data)
    }

    /// Now, as RFC 3339 in UTC to the second.
    static func timestamp(_ date: Date = Date()) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
