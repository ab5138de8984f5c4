import Foundation
import ZIPFoundation

/// Real distributions for tests: the server reads a wheel's METADATA, so test wheels must be wheels.
public enum TestDistributions {
    /// Core metadata for `name` and `version`.
    public static func metadata(name: String, version: String, requiresPython: String? = nil) -> [UInt8] {
        var text = "Metadata-Version: 2.3\nName: \(name)\nVersion: \(version)\n"
        if let requiresPython { text += "Requires-Python: \(requiresPython)\n" }
        return Array(text.utf8)
    }

    /// The bytes of a zip archive holding `members` (path, bytes), deflated.
    public static func zip(_ members: [(String, [UInt8])]) throws -> [UInt8] {
        let archive = try Archive(accessMode: .create)
        for (path, bytes) in members {
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .deflate) { position, size in
                Data(bytes[Int(position)..<Int(position) + size])
            }
        }
        return Array(archive.data ?? Data())
    }

    /// A minimal valid wheel; `payload` varies its bytes without changing what it is.
    public static func wheel(name: String, version: String, requiresPython: String? = nil, payload: [UInt8] = []) throws -> [UInt8] {
        let distInfo = "\(name.replacingOccurrences(of: "-", with: "_").replacingOccurrences(of: ".", with: "_"))-\(version).dist-info"
        return try self.zip([
            ("\(distInfo)/METADATA", self.metadata(name: name, version: version, requiresPython: requiresPython)),
            ("payload.bin", payload),
        ])
    }
}
