// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

extension Duration {
    /// The whole nanoseconds of the duration, saturating at `Int64`'s bounds: what NIO's and Dispatch's timeouts and
    /// the metrics' histograms take.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return seconds < 0 ? .min : .max }
        let (sum, sumOverflow) = product.addingReportingOverflow(attoseconds / 1_000_000_000)
        return sumOverflow ? (seconds < 0 ? .min : .max) : sum
    }
}
