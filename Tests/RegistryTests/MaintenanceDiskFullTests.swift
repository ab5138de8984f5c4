import Foundation
import NIOCore
import Testing

@testable import Registry

#if canImport(Glibc)
import Glibc
#endif

/// A full disk is `StorageFull` (rendered 507), not any write error: /dev/full answers every
/// write with ENOSPC, as a full file system does.
@Suite struct MaintenanceDiskFullTests {
    @Test func aWriteToAFullDiskIsStorageFull() throws {
        let descriptor = open("/dev/full", O_WRONLY | O_CLOEXEC)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        #expect(throws: StorageFull.self) {
            try [UInt8](repeating: 1, count: 4096).withUnsafeBytes { try FileSystemCalls.writeAll(descriptor, $0) }
        }
    }

    @Test func otherFailuresStayFileSystemErrors() {
        #expect(StorageFull.failure(operation: "write", path: "x", errno: EDQUOT) is StorageFull)
        #expect(StorageFull.failure(operation: "write", path: "x", errno: EIO) is FileSystemError)
    }
}
