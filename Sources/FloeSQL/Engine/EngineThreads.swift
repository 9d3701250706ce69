// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The threads the engine works on: preparing statements and running their dataflows.
///
/// Preparing and running a statement recurse over its tree (the parser over the text, the analyzer over the queries
/// and the views they expand, the dataflow over its stages, compiled expressions over their operands). The limits of
/// ``SQLLimits`` bound how deep, but the frames are large — tens of kilobytes per level of nesting in a debug build —
/// so at the limits the recursion needs more than the 8 MiB of a task thread. These threads have ``stackSize`` (only
/// what is touched becomes resident), and the engine's tasks prefer them as their executor. They also keep the
/// engine's blocking file I/O (fsyncs of table logs and checkpoints) off the threads that serve HTTP requests.
public final class EngineThreads: TaskExecutor, @unchecked Sendable {
    /// The engine's threads: one per core, at least two.
    public static let shared = EngineThreads(count: max(2, ProcessInfo.processInfo.activeProcessorCount))

    /// The stack of each thread. Reserved address space, not memory: a page becomes resident when a deep statement
    /// first touches it.
    public static let stackSize = 256 << 20

    private let condition = NSCondition()
    /// Jobs waiting for a thread (guarded by `condition`).
    private var jobs: [UnownedJob] = []
    private var next = 0

    init(count: Int) {
        for index in 0..<count {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "floe-engine-\(index)"
            thread.stackSize = Self.stackSize
            thread.start()
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        var top = 0
        Thread.current.threadDictionary[Self.stackTopKey] = withUnsafeMutablePointer(to: &top) { UInt(bitPattern: $0) }
        let executor = asUnownedTaskExecutor()
        var released = ContinuousClock.now
        while true {
            condition.lock()
            if next == jobs.count, ContinuousClock.now - released > .seconds(1) {
                condition.unlock()
                Self.releaseDeepStack()
                released = .now
                condition.lock()
            }
            while next == jobs.count { condition.wait() }
            let job = jobs[next]
            next += 1
            if next == jobs.count || next > 1024 {
                jobs.removeFirst(next)
                next = 0
            }
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }

    private static let stackTopKey = "floe.engine.stackTop"

    /// Gives the memory of the calling engine thread's stack back to the system, below 1 MiB under the current frame:
    /// a statement at the limits touches tens of megabytes once, which would otherwise stay resident. Called when the
    /// thread goes idle, at most once a second.
    private static func releaseDeepStack() {
        guard let top = Thread.current.threadDictionary[stackTopKey] as? UInt else { return }
        var marker = 0
        let current = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let low = (top - UInt(stackSize) + 16 * page) & ~(page - 1)
        let high = (current - (1 << 20)) & ~(page - 1)
        guard high > low else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: low), Int(high - low), MADV_DONTNEED)
    }

    /// How deep the calling engine thread's stack has ever been, in bytes (its resident pages below the top); `nil`
    /// off the engine's threads. For tests that check what statements at the limits need.
    static func deepestStackUse() -> Int? {
        guard let top = Thread.current.threadDictionary[stackTopKey] as? UInt else { return nil }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let high = top & ~(page - 1)
        let low = high - UInt(stackSize) + 16 * page
        let count = Int((high - low) / page)
        var resident = [UInt8](repeating: 0, count: count)
        guard mincore(UnsafeMutableRawPointer(bitPattern: low), Int(high - low), &resident) == 0 else { return nil }
        guard let deepest = resident.firstIndex(where: { $0 & 1 != 0 }) else { return 0 }
        return (count - deepest) * Int(page)
    }

    /// Runs `body` on the engine's threads (the calling task's executor preference, for its duration).
    public static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(shared, operation: body)
    }
}
