// swift-tools-version:6.1
import PackageDescription

// Pure, hot code (hashing, byte scanning) is compiled with optimisation even in debug builds,
// so that the debug binary the tests drive still hashes and parses uploads at a useful speed.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "wheelhouse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "wheelhouse", targets: ["wheelhouse"])
    ],
    dependencies: [
        // HTTP server: async/await native, request bodies arrive as a back-pressured stream.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // One SQL layer; SQLite is bundled by sqlite-nio, so the one-box mode needs no system library.
        .package(url: "https://github.com/vapor/sqlite-kit.git", from: "4.5.2"),
        // The same SQLKit layer over PostgreSQL, for several instances sharing one database (issue 6).
        // It brings postgres-nio and, through it, swift-nio-ssl: the largest part of a cold build.
        .package(url: "https://github.com/vapor/postgres-kit.git", from: "2.17.0"),
        // sha256 and md5 of uploads, sha256 of stored tokens, secure random for new tokens.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        // Reads a wheel's *.dist-info/METADATA at upload (PEP 658) without unpacking the wheel.
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Already in the graph through Hummingbird; named for its HTTP/1 codec type, below which our
        // HTTP/1 handlers are installed (see WireHTTP1/BelowCodecInstaller.swift).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        // Already in the graph through Hummingbird; named because the wire layer's internal headers
        // are written on its `HTTPFields`.
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
        // Outbound HTTP for the upstream index (issue 12): HTTP/1 and 2, TLS through swift-nio-ssl
        // (already built for postgres-nio), redirects with a limit, deadlines and streamed bodies.
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        // Markdown READMEs on package pages (issue 14): pure Swift, no dependencies, a few seconds of
        // build. It passes raw HTML through, so its output always goes through SafeHTML's sanitiser.
        .package(url: "https://github.com/JohnSundell/Ink.git", from: "0.6.0"),
        // Counters, gauges and timers as the server ecosystem names them (issue 15): the registry
        // counts through its API only (CoreMetrics, a few seconds of build, no dependencies), so the
        // backend is one choice made in `serve`.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        // That backend: Prometheus' text format from atomics, for `/-/metrics`. It brings only
        // swift-atomics besides swift-metrics.
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // PEP 503 names, PEP 440 versions, wheel/sdist filenames, BLAKE2b: no I/O, no dependencies.
        .target(name: "PythonPackaging", swiftSettings: optimisedInDebug),
        // Our own streaming multipart/form-data parser: bounded part headers, memchr-speed scanning.
        .target(
            name: "MultipartStream",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            swiftSettings: optimisedInDebug
        ),
        // The system zlib (already needed by ZIPFoundation on Linux), to stream-inflate sdists for PKG-INFO.
        .systemLibrary(name: "CWheelhouseZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // AWS Signature Version 4, ours (no Swift S3 SDK resolves here): pure, no I/O, no clock, so it
        // is tested step by step against AWS's published cases and botocore's own signer.
        .target(name: "AWSSigV4", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "Registry",
            dependencies: [
                "PythonPackaging", "CWheelhouseZlib", "AWSSigV4",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SQLiteKit", package: "sqlite-kit"),
                .product(name: "PostgresKit", package: "postgres-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                // scrypt, for web sign-in passwords (issue 14); built from the swift-crypto already here.
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]
        ),
        // The HTTP/1 wire layer below Hummingbird's HTTP-types codec: replays, sendfile, reason phrases,
        // closes. NIO and HTTP types only (and Crypto, to key replays by a digest of the credentials);
        // it knows nothing of the registry.
        .target(
            name: "WireHTTP1",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ]
        ),
        // What goes into a web page: escaping, our own allowlist HTML sanitiser, READMEs rendered
        // (Markdown through Ink, then sanitised). Pure: no I/O, so hostile input is tested directly.
        .target(name: "SafeHTML", dependencies: [.product(name: "Ink", package: "Ink")]),
        .target(
            name: "RegistryServer",
            dependencies: [
                "Registry", "PythonPackaging", "MultipartStream", "WireHTTP1", "SafeHTML",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                // For `HTTPParserError`, how a request body that breaks off or is malformed is reported.
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                // `Timer.record(duration:)`, so durations are not converted by hand.
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .executableTarget(
            name: "wheelhouse",
            dependencies: [
                "Registry", "RegistryServer", "AWSSigV4", "WireHTTP1",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "PythonPackagingTests", dependencies: ["PythonPackaging"]),
        .testTarget(name: "MultipartStreamTests", dependencies: ["MultipartStream"]),
        .testTarget(name: "SafeHTMLTests", dependencies: ["SafeHTML"]),
        // AWS's published test suite (Vectors/) and the generator of botocore's cases are read at test time.
        .testTarget(
            name: "AWSSigV4Tests",
            dependencies: ["AWSSigV4", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Vectors", "botocore_cases.py"]
        ),
        .testTarget(
            name: "WireHTTP1Tests",
            dependencies: [
                "WireHTTP1", .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Builders of real wheels and sdists, and the database each test runs on, shared by the test targets.
        .target(
            name: "TestSupport",
            dependencies: [
                "Registry", "AWSSigV4",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "PostgresKit", package: "postgres-kit"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: ["Registry", "TestSupport", "AWSSigV4", .product(name: "ZIPFoundation", package: "ZIPFoundation")]
        ),
        .testTarget(
            name: "RegistryServerTests",
            dependencies: [
                "RegistryServer", "Registry", "TestSupport", "WireHTTP1",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
