import Hummingbird
import NIOCore
import Registry

/// A request body read whole into memory, up to a limit: past it the answer is a 413 that names
/// the limit, whether the client declared its length or sent it chunked.
enum BoundedBody {
    static func collect(_ request: Request, upTo limit: Int, for purpose: String) async throws -> ByteBuffer {
        let refusal = RegistryError.tooLarge("413 Request body too large: \(purpose) takes at most \(Self.describe(limit)) (\(limit) bytes)")
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit { throw refusal }
        do {
            return try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw refusal
        } catch is NIOTooManyBytesError {
            throw refusal
        } catch {
            throw ClientAbort.reading(error, receivedBytes: nil)
        }
    }

    private static func describe(_ bytes: Int) -> String {
        if bytes % (1024 * 1024) == 0 { return "\(bytes / (1024 * 1024)) MiB" }
        if bytes % 1024 == 0 { return "\(bytes / 1024) KiB" }
        return "\(bytes) bytes"
    }
}
