import Foundation
import ZIPFoundation

/// Reads the one `*.dist-info/METADATA` member of a wheel, without unpacking anything to disk.
///
/// A wheel is untrusted input: member names are only compared, never used as paths; the member's
/// declared size and its actual inflated size are both bounded, so a zip bomb costs at most
/// `maxBytes` of memory before it is refused.
struct WheelMetadataReader {
    var maxBytes = 8 * 1024 * 1024

    enum Failure: Error, Equatable, CustomStringConvertible {
        case notAZip
        case noMetadata
        case severalMetadata
        case tooLarge
        case unreadable

        var description: String {
            switch self {
            case .notAZip: "The wheel is not a valid zip archive"
            case .noMetadata: "The wheel has no .dist-info/METADATA"
            case .severalMetadata: "The wheel has more than one .dist-info/METADATA"
            case .tooLarge: "The wheel's METADATA is too large"
            case .unreadable: "The wheel's METADATA cannot be read"
            }
        }
    }

    private struct TooLarge: Error {}

    /// Blocking: call it on a thread pool.
    func read(wheelAt path: String) throws(Failure) -> [UInt8] {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch { throw .notAZip }
        let candidates = archive.filter { entry in
            let components = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            return entry.type == .file && components.count == 2 && components[1] == "METADATA"
                && components[0].hasSuffix(".dist-info") && components[0].count > ".dist-info".count
        }
        guard let entry = candidates.first else { throw .noMetadata }
        guard candidates.count == 1 else { throw .severalMetadata }
        guard entry.uncompressedSize <= UInt64(self.maxBytes) else { throw .tooLarge }

        var bytes: [UInt8] = []
        let limit = self.maxBytes
        do {
            _ = try archive.extract(entry, bufferSize: 64 * 1024, skipCRC32: false) { data in
                guard bytes.count + data.count <= limit else { throw TooLarge() }
                bytes.append(contentsOf: data)
            }
        } catch is TooLarge {
            throw .tooLarge
        } catch {
            throw .unreadable
        }
        return bytes
    }
}
