// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import Testing

@testable import FloeCLI

struct ResultPollPacerTests {
    @Test func smallPagesBackOffExponentiallyUpToTheMaximum() {
        var pacer = ResultPollPacer()
        let delays = (0..<6).map { _ in pacer.delay(after: .page(changes: 1, elapsed: .zero)) }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1)])
        // Empty pages count as small.
        #expect(pacer.delay(after: .page(changes: 0, elapsed: .zero)) == .seconds(1))
    }

    @Test func aBusyPageResetsTheBackoff() {
        var pacer = ResultPollPacer()
        for _ in 0..<5 { _ = pacer.delay(after: .page(changes: 3, elapsed: .zero)) }
        #expect(pacer.delay(after: .page(changes: 100, elapsed: .zero)) == .zero)
        #expect(pacer.interval == .zero)
        #expect(pacer.delay(after: .page(changes: 99, elapsed: .zero)) == .milliseconds(100))
    }

    @Test func timeTheServerHeldTheRequestCountsTowardsTheInterval() {
        var pacer = ResultPollPacer()
        for _ in 0..<4 { _ = pacer.delay(after: .page(changes: 1, elapsed: .zero)) }
        // A server that held the page for half a second leaves half of the one-second interval to wait.
        #expect(pacer.delay(after: .page(changes: 1, elapsed: .milliseconds(500))) == .milliseconds(500))
        // A long poll of a full second (an empty page) leaves nothing to wait.
        #expect(pacer.delay(after: .page(changes: 0, elapsed: .seconds(1))) == .zero)
    }

    @Test func rateLimitingWaitsItsRetryAfterAndSlowsDown() {
        var pacer = ResultPollPacer()
        #expect(pacer.delay(after: .rateLimited(retryAfter: .seconds(7))) == .seconds(7))
        #expect(pacer.delay(after: .rateLimited(retryAfter: nil)) == .seconds(1))
        #expect(pacer.delay(after: .rateLimited(retryAfter: .zero)) == .seconds(1), "never less than the current interval")
        #expect(pacer.interval == .seconds(1))
        #expect(!pacer.shouldGiveUp, "a 429 is not a reason to stop following")
    }

    @Test func anUnreachableServerIsRetriedWithBackoffThenGivenUp() {
        var pacer = ResultPollPacer()
        var delays: [Duration] = []
        while !pacer.shouldGiveUp { delays.append(pacer.delay(after: .unreachable)) }
        #expect(delays == [.milliseconds(500), .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5)])
        // An answer in between starts the count again.
        var recovering = ResultPollPacer()
        for _ in 0..<5 { _ = recovering.delay(after: .unreachable) }
        _ = recovering.delay(after: .page(changes: 0, elapsed: .seconds(1)))
        #expect(recovering.consecutiveFailures == 0 && !recovering.shouldGiveUp)
        #expect(recovering.delay(after: .unreachable) == .milliseconds(500))
    }

    /// Whatever a trickling stream does, a follower stays far below the server's 50 requests/s and 1,000/min.
    @Test func aTricklingStreamIsReadAboutOnceASecond() {
        var pacer = ResultPollPacer()
        var clock = Duration.zero
        var requests = 0
        // A request answered at once with one row, for a simulated minute.
        while clock < .seconds(60) {
            requests += 1
            clock += .milliseconds(5) + pacer.delay(after: .page(changes: 1, elapsed: .milliseconds(5)))
        }
        #expect(requests <= 70, "\(requests) requests in a minute")
    }
}

struct SQLCompletionTests {
    let names = SQLCompletion(columnRows: [
        ["default", "cluster_0", "orders", "order_id"], ["default", "cluster_0", "orders", "customer_id"],
        ["examples", "marketplace", "customers", "customer_id"], ["examples", "marketplace", "customers", "name"],
        ["default", "my-db", "odd table", "x"],
    ])

    @Test func keywordsCompleteInTheCaseTheyAreTyped() {
        #expect(SQLCompletion().complete("SEL")?.replacement == "SELECT ")
        #expect(SQLCompletion().complete("sel")?.replacement == "select ")
        #expect(SQLCompletion().complete("zzz") == nil)
    }

    @Test func tablesAndColumnsCompleteBareAndQualified() {
        #expect(names.complete("ord")?.replacement == "order")
        #expect(names.complete("ord")?.choices == ["order", "orders", "order_id"])
        #expect(names.complete("examples.marketplace.cu")?.replacement == "examples.marketplace.customers ")
        #expect(names.complete("cluster_0.o")?.replacement == "cluster_0.orders ")
        #expect(names.complete("customer_")?.replacement == "customer_id ")
        #expect(names.tables.contains("default.`my-db`.`odd table`"))
    }

    @Test func severalCandidatesInsertWhatTheyShareAndListThemselves() {
        // `cu`: CUMULATE, CURRENT, customers, customer_id.
        let some = names.complete("cu")
        #expect(some?.replacement == "cu")
        #expect(some?.choices.contains("customers") == true && some?.choices.contains("customer_id") == true)
        let shared = names.complete("custo")
        #expect(shared?.replacement == "customer")
        #expect(shared?.choices == ["customers", "customer_id"])
    }

    @Test func theWordIsTheIdentifierBeforeTheCursor() {
        let line = Array("SELECT * FROM examples.mar")
        #expect(SQLCompletion.wordStart(in: line, cursor: line.count) == 14)
        #expect(SQLCompletion.wordStart(in: line, cursor: 6) == 0)
        #expect(SQLCompletion.wordStart(in: line, cursor: 7) == 7)
    }
}
