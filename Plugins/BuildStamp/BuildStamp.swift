// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation
import PackagePlugin

/// Stamps `FloeBuildInfo` with the git commit and the build date, which SwiftPM has no setting for.
///
/// A prebuild command runs `scripts/build-stamp` with `/bin/sh` before every build (a prebuild command may only run
/// an executable that is not built from source). The script asks git for the commit — `unknown` when git or the
/// repository is missing, as in a source tarball, unless `FLOE_BUILD_COMMIT` names it — and rewrites the generated
/// file only when its text changes, so an unchanged tree rebuilds nothing. The date is a UTC day (or the day of
/// `SOURCE_DATE_EPOCH`, for reproducible builds): a timestamp would change the file, and relink `floe`, on every build.
@main
struct BuildStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let output = context.pluginWorkDirectoryURL.appending(path: "Stamp")
        let script = context.package.directoryURL.appending(path: "scripts/build-stamp")
        return [
            .prebuildCommand(
                displayName: "Stamping \(target.name) with the git commit and build date",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: [script.path, context.package.directoryURL.path, output.path],
                environment: ProcessInfo.processInfo.environment,
                outputFilesDirectory: output)
        ]
    }
}
