import Foundation

/// What an audit event is about (GitLab's `entity_type`): the user, group or project the change
/// belongs to, or the instance for its settings.
public enum AuditEntityType: String, Sendable, Equatable, CaseIterable {
    case user = "User"
    case group = "Group"
    case project = "Project"
    case instance = "Instance"
}

/// The entity an event belongs to, with its path as it was when the event happened (the entity
/// may be renamed or gone since).
public struct AuditEntity: Sendable, Equatable {
    public var type: AuditEntityType
    public var id: Int64
    public var path: String

    public init(type: AuditEntityType, id: Int64, path: String) {
        self.type = type
        self.id = id
        self.path = path
    }

    /// The instance has one entity, id 1, as GitLab's instance scope.
    public static let instance = AuditEntity(type: .instance, id: 1, path: "instance")
}

/// What the change acted on within the entity (a token, a member, a file), if not the entity itself.
public struct AuditTarget: Sendable, Equatable {
    public var type: String
    public var id: Int64
    /// A name to recognise it by (a token's name, a file name): never a secret.
    public var details: String

    public init(type: String, id: Int64, details: String) {
        self.type = type
        self.id = id
        self.details = details
    }
}

/// An event's name, GitLab-style (`member_added`). A struct rather than an enum: a database written
/// by a newer Wheelhouse may hold names this one does not know, and they still list.
public struct AuditEventName: RawRepresentable, Sendable, Hashable {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
}

/// A change about to be recorded: everything but the id and time the database gives it.
public struct AuditEntry: Sendable, Equatable {
    public var name: AuditEventName
    public var author: AuditAuthor
    public var entity: AuditEntity
    public var target: AuditTarget?
    /// Event-specific facts (what changed from what to what). Never a secret: the factories in
    /// `AuditEntry+Changes` are the only place entries are made, and none is given one.
    public var details: [String: String]
    /// One line for people (GitLab's `custom_message`).
    public var message: String

    init(
        _ name: AuditEventName,
        by author: AuditAuthor,
        on entity: AuditEntity,
        target: AuditTarget? = nil,
        details: [String: String] = [:],
        message: String
    ) {
        self.name = name
        self.author = author
        self.entity = entity
        self.target = target
        self.details = details
        self.message = message
    }

    /// The `details` column: the event's facts with the author's class and the message, as JSON
    /// with sorted keys.
    var storedDetails: String {
        var all = self.details
        all["author_class"] = self.author.kind.rawValue
        all["custom_message"] = self.message
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(all)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The facts, class and message back from the `details` column (an unreadable one reads as empty).
    static func parse(storedDetails: String) -> (details: [String: String], authorClass: String?, message: String) {
        var all = (try? JSONDecoder().decode([String: String].self, from: Data(storedDetails.utf8))) ?? [:]
        let authorClass = all.removeValue(forKey: "author_class")
        let message = all.removeValue(forKey: "custom_message") ?? ""
        return (all, authorClass, message)
    }
}

/// A recorded change, as listed.
public struct AuditEvent: Sendable, Equatable {
    public var id: Int64
    public var createdAt: Timestamp
    public var entry: AuditEntry

    public var name: AuditEventName { self.entry.name }
    public var author: AuditAuthor { self.entry.author }
    public var entity: AuditEntity { self.entry.entity }
    public var target: AuditTarget? { self.entry.target }
    public var details: [String: String] { self.entry.details }
    public var message: String { self.entry.message }
}
