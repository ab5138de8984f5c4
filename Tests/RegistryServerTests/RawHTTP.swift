import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Sends one request over a plain socket and returns the response's status line exactly as sent:
/// HTTP client libraries normalise the reason phrase, which is the very thing some tests check.
enum RawHTTP {
    /// The blocking socket work runs on a thread of its own: on the cooperative pool (two threads on
    /// two cores) two such waits would starve the very server they wait for.
    static func statusLine(port: Int, request: [UInt8]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try self.blockingStatusLine(port: port, request: request) })
            }
        }
    }

    private static func blockingStatusLine(port: Int, request: [UInt8]) throws -> String {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var sent = 0
        while sent < request.count {
            let count = request[sent...].withUnsafeBytes { send(socketDescriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw POSIXError(.EPIPE) }
            sent += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !received.contains(UInt8(ascii: "\n")) {
            let count = buffer.withUnsafeMutableBytes { recv(socketDescriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += buffer[..<count]
        }
        let line = received.prefix { $0 != UInt8(ascii: "\n") }
        return String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The bytes of an upload request for `form`.
    static func uploadRequest(_ form: UploadForm, project: String, authorization: String) -> [UInt8] {
        let body = Array(form.body.readableBytesView)
        let head =
            "POST /api/v4/projects/\(project)/packages/pypi HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            + "Authorization: \(authorization)\r\nContent-Type: multipart/form-data; boundary=\(form.boundary)\r\n"
            + "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }
}
