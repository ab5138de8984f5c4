import Foundation
import PythonPackaging
import TestSupport
import Testing

@testable import Registry

/// Builds wheels and sdists on disk, good and hostile, for the metadata readers.
struct DistributionFactory {
    let directory: String

    init() throws {
        self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("wheelhouse-dists-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(atPath: self.directory) }

    static func metadata(name: String = "demo", version: String = "1.0", requiresPython: String? = ">=3.9") -> [UInt8] {
        TestDistributions.metadata(name: name, version: version, requiresPython: requiresPython)
            + Array("Requires-Dist: requests>=2; extra == \"http\"\n\nA description.\n".utf8)
    }

    /// A zip with the given members (path, bytes), deflated, written to a file.
    func wheel(_ name: String, members: [(String, [UInt8])]) throws -> String {
        let path = self.directory + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(try TestDistributions.zip(members)))
        return path
    }

    /// A .tar.gz made by the system's tar from the given members (path, bytes).
    func sdist(_ name: String, members: [(String, [UInt8])]) throws -> String {
        let root = self.directory + "/tree-\(UUID().uuidString)"
        for (member, bytes) in members {
            let path = root + "/" + member
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        }
        let output = self.directory + "/" + name
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "--format=pax", "-czf", output, "-C", root] + Array(Set(members.map { String($0.0.split(separator: "/")[0]) }))
        try tar.run()
        tar.waitUntilExit()
        #expect(tar.terminationStatus == 0)
        return output
    }
}

@Suite struct CoreMetadataExtractionTests {
    let name = try! ProjectName(validating: "demo")
    let version = try! Version(parsing: "1.0")

    func extract(_ path: String, _ filename: String) throws -> ExtractedMetadata? {
        try CoreMetadataExtractor().extract(
            fromFileAt: path,
            filename: try DistributionFilename(parsing: filename),
            name: self.name,
            version: self.version
        )
    }

    @Test func readsAWheelsMetadata() throws {
        let factory = try DistributionFactory()
        defer { factory.remove() }
        let metadata = DistributionFactory.metadata()
        let path = try factory.wheel(
            "demo-1.0-py3-none-any.whl",
            members: [
                ("demo/__init__.py", Array("x = 1\n".utf8)), ("demo-1.0.dist-info/METADATA", metadata),
                ("demo-1.0.dist-info/WHEEL", Array("Wheel-Version: 1.0\n".utf8)),
            ]
        )
        let extracted = try #require(try self.extract(path, "demo-1.0-py3-none-any.whl"))
        #expect(extracted.bytes == metadata)
        #expect(extracted.metadata.requiresPython == ">=3.9")
    }

    @Test func refusesWheelsWithoutMatchingMetadata() throws {
        let factory = try DistributionFactory()
        defer { factory.remove() }
        let cases: [(String, [(String, [UInt8])])] = [
            ("no metadata", [("demo/__init__.py", [1])]),
            ("nested metadata", [("x/demo-1.0.dist-info/METADATA", DistributionFactory.metadata())]),
            ("two metadata", [("a.dist-info/METADATA", DistributionFactory.metadata()), ("b.dist-info/METADATA", DistributionFactory.metadata())]),
            ("another project", [("demo-1.0.dist-info/METADATA", DistributionFactory.metadata(name: "other"))]),
            ("another version", [("demo-1.0.dist-info/METADATA", DistributionFactory.metadata(version: "2.0"))]),
            ("garbage metadata", [("demo-1.0.dist-info/METADATA", [0xFF, 0xFE, 0x00])]),
        ]
        for (index, (label, members)) in cases.enumerated() {
            let path = try factory.wheel("case\(index).whl", members: members)
            #expect(throws: RegistryError.self, "\(label)") { try self.extract(path, "demo-1.0-py3-none-any.whl") }
        }
        let notZip = factory.directory + "/notzip.whl"
        _ = FileManager.default.createFile(atPath: notZip, contents: Data("not a zip".utf8))
        #expect(throws: RegistryError.invalid("The wheel is not a valid zip archive")) { try self.extract(notZip, "demo-1.0-py3-none-any.whl") }
    }

    @Test func boundsAZipBomb() throws {
        let factory = try DistributionFactory()
        defer { factory.remove() }
        // 64 MiB of zeros deflates to ~64 KiB; the reader must stop at its limit.
        let bomb = [UInt8](repeating: 0, count: 64 * 1024 * 1024)
        let path = try factory.wheel("bomb.whl", members: [("demo-1.0.dist-info/METADATA", bomb)])
        let compressedSize = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(compressedSize < 1024 * 1024)
        #expect(throws: WheelMetadataReader.Failure.tooLarge) { try WheelMetadataReader(maxBytes: 1024 * 1024).read(wheelAt: path) }
    }

    @Test func hostileMemberNamesAreNeverPaths() throws {
        let factory = try DistributionFactory()
        defer { factory.remove() }
        let path = try factory.wheel(
            "hostile.whl",
            members: [
                ("../../escaped.txt", [1, 2, 3]), ("/etc/evil", [4]), ("demo-1.0.dist-info/METADATA", DistributionFactory.metadata()),
            ]
        )
        #expect(try self.extract(path, "demo-1.0-py3-none-any.whl") != nil)
        let parent = (factory.directory as NSString).deletingLastPathComponent
        #expect(!FileManager.default.fileExists(atPath: parent + "/escaped.txt"))
    }

    @Test func readsAnSdistsPKGINFOWhenValid() throws {
        let factory = try DistributionFactory()
        defer { factory.remove() }
        let metadata = DistributionFactory.metadata()
        let good = try factory.sdist(
            "demo-1.0.tar.gz",
            members: [
                ("demo-1.0/setup.py", Array("pass\n".utf8)), ("demo-1.0/PKG-INFO", metadata),
                ("demo-1.0/src/demo.egg-info/PKG-INFO", DistributionFactory.metadata(name: "wrong")),
            ]
        )
        #expect(try self.extract(good, "demo-1.0.tar.gz")?.bytes == metadata)

        let long = "demo-1.0/" + String(repeating: "d", count: 120) + "/x.py"
        let paxNames = try factory.sdist("pax.tar.gz", members: [(long, [1]), ("demo-1.0/PKG-INFO", metadata)])
        #expect(try self.extract(paxNames, "demo-1.0.tar.gz")?.bytes == metadata)

        let missing = try factory.sdist("missing.tar.gz", members: [("demo-1.0/setup.py", [1])])
        #expect(try self.extract(missing, "demo-1.0.tar.gz") == nil)
        let wrong = try factory.sdist("wrong.tar.gz", members: [("demo-1.0/PKG-INFO", DistributionFactory.metadata(name: "other"))])
        #expect(try self.extract(wrong, "demo-1.0.tar.gz") == nil)
        let notGzip = factory.directory + "/plain.tar.gz"
        _ = FileManager.default.createFile(atPath: notGzip, contents: Data(repeating: 7, count: 5000))
        #expect(try self.extract(notGzip, "demo-1.0.tar.gz") == nil)
    }
}
