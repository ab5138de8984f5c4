import Logging

/// The request id of the request a task is answering, for every log line written while it does,
/// whichever logger writes it: `metadataProvider` reads it, and `serve` gives that provider to
/// its log handler.
public enum RequestLogContext {
    @TaskLocal public static var requestID: String?

    public static let metadataProvider = Logger.MetadataProvider {
        guard let id = Self.requestID else { return [:] }
        return ["request_id": .string(id)]
    }
}
