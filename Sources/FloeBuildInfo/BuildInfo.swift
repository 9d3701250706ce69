// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// What `floe version`, `floe --version` and `GET /healthz` report about the running binary.
///
/// The release version is kept here by hand; the commit and the build date come from `BuildStamp`, which the
/// BuildStamp plugin generates before each build (see `scripts/build-stamp`). It is a module of its own so that a
/// new stamp recompiles this file alone.
public enum BuildInfo {
    /// The release version.
    public static let version = "0.1.0"
    /// The short git commit the binary was built from, or `unknown` (a build outside a git clone).
    public static let commit = BuildStamp.commit
    /// The UTC day of the build, `YYYY-MM-DD`.
    public static let date = BuildStamp.date

    /// The `floe version` text, laid out as the `confluent` CLI lays out its own.
    public static var summary: String {
        """
        floe - a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API

        Version:     \(version)
        Git Ref:     \(commit)
        Build Date:  \(date)
        """
    }
}
