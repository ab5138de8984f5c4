#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `WHEELHOUSE_*` settings, read once where a command starts.
enum EnvironmentSetting {
    static func value(_ name: String) -> String? {
        guard let raw = getenv("WHEELHOUSE_" + name) else { return nil }
        let value = String(cString: raw)
        return value.isEmpty ? nil : value
    }
}
