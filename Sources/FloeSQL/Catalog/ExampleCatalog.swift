// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// Confluent's read-only `examples` catalog: the `marketplace` database with four generated tables (`clicks` and
/// `orders` append-only, `customers` and `products` upsert tables keyed by their ids), each producing 50 rows a second
/// with `$rowtime` and the default `SOURCE_WATERMARK()`. Every environment sees it; nothing can change it.
enum ExampleCatalog {
    static let identity = CatalogIdentity(id: "examples", name: "examples")
    static let database = "marketplace"

    /// The catalog's contents (never stored: the catalog store refuses changes to it).
    static let entry: CatalogEntry = {
        let string = SQLType(.varchar(SQLType.maxLength), nullable: false)
        let int = SQLType(.integer, nullable: false)
        func table(_ name: String, _ columns: [(String, SQLType, String)], key: [String]) -> TableEntry {
            var options = ["connector": "faker", "rows-per-second": "50", "changelog.mode": key.isEmpty ? "append" : "upsert"]
            for (column, _, expression) in columns { options["fields.\(column).expression"] = expression }
            return TableEntry(
                id: "examples-marketplace-\(name)", name: name, columns: columns.map { ColumnEntry(name: $0.0, type: $0.1) }, primaryKey: key,
                watermarkColumn: PlanField.rowtimeName, watermarkExpression: QueryAnalyzer.sourceWatermark, distributedBy: [], bucketCount: nil,
                comment: nil, options: options)
        }
        let tables = [
            table(
                "clicks",
                [
                    ("click_id", string, "#{Internet.uuid}"),
                    ("user_id", int, "#{Number.numberBetween '3000','5000'}"),
                    ("url", string, "#{regexify 'https://www[.]acme[.]com/product/[a-z]{5}'}"),
                    ("user_agent", string, "#{Internet.userAgentAny}"),
                    ("view_time", int, "#{Number.numberBetween '10','120'}"),
                ], key: []),
            table(
                "orders",
                [
                    ("order_id", string, "#{Internet.uuid}"),
                    ("customer_id", int, "#{Number.numberBetween '3000','3250'}"),
                    ("product_id", string, "#{Number.numberBetween '1000','1500'}"),
                    ("price", SQLType(.double, nullable: false), "#{Number.randomDouble '2','10','100'}"),
                ], key: []),
            table(
                "customers",
                [
                    ("customer_id", int, "#{Number.numberBetween '3000','3250'}"),
                    ("name", string, "#{Name.fullName}"),
                    ("address", string, "#{Address.streetAddress}"),
                    ("postcode", string, "#{Address.postcode}"),
                    ("city", string, "#{Address.city}"),
                    ("email", string, "#{Internet.emailAddress}"),
                ], key: ["customer_id"]),
            table(
                "products",
                [
                    ("product_id", string, "#{Number.numberBetween '1000','1500'}"),
                    ("name", string, "#{Commerce.productName}"),
                    ("brand", string, "#{Commerce.brand}"),
                    ("vendor", string, "#{Commerce.vendor}"),
                    ("department", string, "#{Commerce.department}"),
                ], key: ["product_id"]),
        ]
        var database = DatabaseEntry(id: "examples-marketplace", name: Self.database)
        for table in tables { database.tables[table.name] = table }
        return CatalogEntry(databases: [Self.database: database])
    }()

    static func isExample(_ catalogID: String) -> Bool { catalogID == identity.id }

    static func readOnly() -> SQLError { SQLError("Catalog 'examples' is read-only: its tables are generated examples.") }
}
