/// Scopes of personal access tokens (`api`, `read_api`) and of deploy tokens (`*_package_registry`).
public enum TokenScope: String, Sendable, Codable, CaseIterable {
    case api
    case readAPI = "read_api"
    case readPackageRegistry = "read_package_registry"
    case writePackageRegistry = "write_package_registry"

    public static let personal: Set<TokenScope> = [.api, .readAPI]
    public static let deploy: Set<TokenScope> = [.readPackageRegistry, .writePackageRegistry]
}

extension Set<TokenScope> {
    /// Comma-separated, sorted: how scopes are stored.
    var stored: String { self.map(\.rawValue).sorted().joined(separator: ",") }

    init(stored: String) {
        self.init(stored.split(separator: ",").compactMap { TokenScope(rawValue: String($0)) })
    }
}
