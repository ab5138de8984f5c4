import AWSSigV4
import Foundation
import Logging
import Registry

/// The S3 server the store's tests run against: `scripts/test` starts moto with signature checks
/// (Tests/harness/s3_server.py) and names it in `WHEELHOUSE_TEST_S3_*` and `AWS_*`. Without them the
/// S3 tests are skipped (a plain `swift test`), never faked.
public enum TestS3 {
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    public static var isConfigured: Bool {
        Self.environment["WHEELHOUSE_TEST_S3_ENDPOINT"] != nil && Self.environment["WHEELHOUSE_TEST_S3_BUCKET"] != nil
            && AWSCredentials(environment: Self.environment) != nil
    }

    public static var endpoint: String { Self.environment["WHEELHOUSE_TEST_S3_ENDPOINT"]! }
    public static var bucket: String { Self.environment["WHEELHOUSE_TEST_S3_BUCKET"]! }
    public static var region: String { Self.environment["WHEELHOUSE_TEST_S3_REGION"] ?? "us-east-1" }
    public static var credentials: AWSCredentials { AWSCredentials(environment: Self.environment)! }

    /// A configuration under a prefix of its own, so that tests running at once never see each other's blobs.
    public static func configuration(
        endpoint: String? = nil,
        credentials: AWSCredentials? = nil,
        bucket: String? = nil,
        downloadMode: S3Configuration.DownloadMode = .proxy
    ) throws -> S3Configuration {
        try S3Configuration(
            bucket: bucket ?? Self.bucket,
            prefix: "test-\(UUID().uuidString.lowercased())",
            region: Self.region,
            credentials: credentials ?? Self.credentials,
            endpoint: endpoint ?? Self.endpoint,
            downloadMode: downloadMode
        )
    }

    /// A store on `configuration`, spooling under `directory`, shut down after `body`.
    public static func withStore<Result>(
        _ configuration: S3Configuration,
        spoolingIn directory: String,
        _ body: (S3BlobStore) async throws -> Result
    ) async throws -> Result {
        let store = try S3BlobStore(configuration: configuration, spoolDirectory: directory + "/spool", logger: Logger(label: "test-s3"))
        do {
            let result = try await body(store)
            try await store.shutdown()
            return result
        } catch {
            try? await store.shutdown()
            throw error
        }
    }
}
