import Hummingbird
import Registry

/// `/-/liveness`, `/-/readiness` and `/-/metrics`: what a load balancer and Prometheus ask.
struct OperationsEndpoints: Sendable {
    let observability: ServerObservability

    /// 200 while the process answers at all: it touches nothing else.
    func liveness() -> Response {
        Self.json(#"{"status":"ok"}"#, status: .ok)
    }

    /// 200 when the database answers and the blob store can be written and read, else 503 with
    /// the failing check named and why (cached for a second, see `ReadinessProbe`).
    func readiness() async -> Response {
        let report = await self.observability.readiness.report()
        let checks = [("database", report.database), ("blob_store", report.blobStore)]
        let states: [(String, JSONValue)] = checks.map { ($0.0, .string($0.1 == nil ? "ok" : "failed")) }
        var fields: [(String, JSONValue)] = [("status", .string(report.isReady ? "ok" : "failed")), ("checks", .object(states))]
        let errors = checks.compactMap { name, error in error.map { (name, JSONValue.string($0)) } }
        if !errors.isEmpty { fields.append(("errors", .object(errors))) }
        return Self.json(JSONValue.object(fields).rendered, status: report.isReady ? .ok : .serviceUnavailable)
    }

    /// Prometheus' text format 0.0.4, to the allowlist only: anyone else gets the 404 of an
    /// unknown path.
    func metrics(remoteAddress: String?) throws -> Response {
        guard self.observability.allowlist.allows(remoteAddress) else { throw RegistryError.notFound("404 Not Found") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 * 1024)
        self.observability.prometheus.emit(into: &bytes)
        bytes.append(contentsOf: self.observability.process.render().utf8)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        headers[.contentLength] = String(bytes.count)
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private static func json(_ body: String, status: HTTPResponse.Status) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(body.utf8.count)
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
