/// This build's version, as `GET /api/v4/version` and the landing page report it.
public enum WheelhouseVersion {
    public static let current = "0.4.0"
}
