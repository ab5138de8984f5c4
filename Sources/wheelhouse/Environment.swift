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

extension EnvironmentSetting {
    /// The `AWS_*` variables that S3 access reads (credentials and region), by name.
    static var aws: [String: String] {
        var found: [String: String] = [:]
        for name in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"] {
            if let raw = getenv(name) { found[name] = String(cString: raw) }
        }
        return found
    }
}
