/// The version this build reports (`tributary --version`, `node.status`).
enum TributaryVersion {
    static let current = "0.1.0-dev"
}
