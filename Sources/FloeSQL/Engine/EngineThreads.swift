// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The threads the engine works on: preparing statements and running their dataflows.
///
/// Preparing and running a statement recurse over its tree (the parser over the text, the analyzer over the queries
/// and the views they expand, the dataflow over its stages, compiled expressions over their operands). The limits of
/// ``SQLLimits`` bound how deep, but the frames are large — tens of kilobytes per level of nesting in a debug build —
/// so at the limits the recursion needs more than the 8 MiB of a task thread. These threads have ``stackSize`` (only
/// what is touched becomes resident), and the engine's tasks prefer them as their executor. They also keep the
/// engine's blocking file I/O (fsyncs of table logs and checkpoints) off the threads that serve HTTP.
///
/// Preparation has threads of its own (``preparation``), so that statements that keep the dataflow threads busy
/// never hold up the preparation of others.
public final class EngineThreads: TaskExecutor, @unchecked Sendable {
    /// The threads that run dataflows: one per core, at least two.
    public static let shared = EngineThreads(count: max(2, ProcessInfo.processInfo.activeProcessorCount), name: "floe-engine")
    /// The threads that prepare statements.
    public static let preparation = EngineThreads(count: 2, name: "floe-prepare")

    /// The stack of each thread. Reserved address space, not memory: a page becomes resident when a deep statement
    /// first touches it.
    public static let stackSize = 256 << 20

    private let condition = NSCondition()
    /// Jobs waiting for a thread (guarded by `condition`).
    private var jobs: [UnownedJob] = []
    private var next = 0

    init(count: Int, name: String = "floe-engine") {
        for index in 0..<count {
            Self.spawn(name: "\(name)-\(index)") { [unowned self] stack in self.work(stack) }
        }
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work(_ stack: Stack?) {
        if let stack { Thread.current.threadDictionary[Self.stackKey] = [stack.low, stack.high] }
        let executor = asUnownedTaskExecutor()
        var released = ContinuousClock.now
        while true {
            condition.lock()
            if next == jobs.count, let stack, ContinuousClock.now - released > .seconds(1) {
                condition.unlock()
                stack.releaseBelowCurrentFrame()
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

    /// Runs `body` on the dataflow threads (the calling task's executor preference, for its duration).
    public static func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(shared, operation: body)
    }

    /// Runs `body` on the preparation threads.
    public static func prepare<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        try await withTaskExecutorPreference(preparation, operation: body)
    }

    // MARK: Stacks

    /// A thread's stack, whose bounds the engine knows because it mapped it (below it, a guard page).
    struct Stack: Sendable {
        let low: UInt
        let high: UInt

        /// Gives the memory of the stack back to the system below 1 MiB under the current frame: a statement at the
        /// limits touches tens of megabytes once, which would otherwise stay resident. Called when the thread goes idle,
        /// at most once a second.
        func releaseBelowCurrentFrame() {
            var marker = 0
            let current = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
            let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
            let end = (current - (1 << 20)) & ~(page - 1)
            guard end > low else { return }
            _ = madvise(UnsafeMutableRawPointer(bitPattern: low), Int(end - low), MADV_DONTNEED)
        }
    }

    private static let stackKey = "floe.engine.stack"

    /// How deep the calling engine thread's stack has ever been, in bytes (its resident pages); `nil` off the engine's
    /// threads. For tests that check what statements at the limits need.
    static func deepestStackUse() -> Int? {
        #if os(Linux)
        guard let bounds = Thread.current.threadDictionary[stackKey] as? [UInt], bounds.count == 2 else { return nil }
        let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
        let count = Int((bounds[1] - bounds[0]) / page)
        var resident = [UInt8](repeating: 0, count: count)
        guard mincore(UnsafeMutableRawPointer(bitPattern: bounds[0]), Int(bounds[1] - bounds[0]), &resident) == 0 else { return nil }
        guard let deepest = resident.firstIndex(where: { $0 & 1 != 0 }) else { return 0 }
        return (count - deepest) * Int(page)
        #else
        return nil
        #endif
    }

    /// Starts a detached thread running `body` on a stack of ``stackSize``. On Linux the stack is mapped here (with a
    /// guard page below it), so its bounds are known exactly to release and measure it; elsewhere Foundation's
    /// `Thread` provides it.
    private static func spawn(name: String, _ body: @escaping @Sendable (Stack?) -> Void) {
        #if os(Linux)
        let guardSize = 64 << 10
        let mapped = mmap(nil, stackSize + guardSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        if let base = mapped, base != UnsafeMutableRawPointer(bitPattern: -1) {
            _ = mprotect(base, guardSize, PROT_NONE)
            let low = base + guardSize
            let stack = Stack(low: UInt(bitPattern: low), high: UInt(bitPattern: low) + UInt(stackSize))
            final class Start {
                let run: () -> Void
                init(_ run: @escaping () -> Void) { self.run = run }
            }
            let start = Unmanaged.passRetained(
                Start {
                    Thread.current.name = name
                    body(stack)
                }
            ).toOpaque()
            // Allocated rather than zero-initialized: the type's initializer is not visible from Glibc here.
            let attributes = UnsafeMutablePointer<pthread_attr_t>.allocate(capacity: 1)
            pthread_attr_init(attributes)
            defer {
                pthread_attr_destroy(attributes)
                attributes.deallocate()
            }
            pthread_attr_setstack(attributes, low, stackSize)
            var thread: pthread_t = 0
            let created = pthread_create(
                &thread, attributes,
                { argument in
                    Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue().run()
                    return nil
                }, start)
            if created == 0 {
                pthread_detach(thread)
                return
            }
            Unmanaged<Start>.fromOpaque(start).release()
            munmap(base, stackSize + guardSize)
        }
        #endif
        let thread = Thread { body(nil) }
        thread.name = name
        thread.stackSize = stackSize
        thread.start()
    }
}
