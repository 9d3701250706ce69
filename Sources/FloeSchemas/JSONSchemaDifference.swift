// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

/// One structural difference between a writer schema and a reader schema, named as Confluent's JSON Schema
/// compatibility checker names it, at a JSON pointer into the schemas (`#/properties/amount`).
///
/// Every difference says whether it keeps the reader able to read what the writer admits. Compatible differences
/// (a widened bound, a new optional property in a closed object) are reported too: the registry only refuses on the
/// incompatible ones, but the full list explains a verdict.
public struct JSONSchemaDifference: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of difference, spelled as Confluent's `Difference.Type`.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        // Annotations: never change what is admitted.
        case idChanged = "ID_CHANGED"
        case descriptionChanged = "DESCRIPTION_CHANGED"
        case titleChanged = "TITLE_CHANGED"
        case defaultChanged = "DEFAULT_CHANGED"
        // Types.
        case typeExtended = "TYPE_EXTENDED"
        case typeNarrowed = "TYPE_NARROWED"
        case typeChanged = "TYPE_CHANGED"
        // Strings.
        case maxLengthAdded = "MAX_LENGTH_ADDED"
        case maxLengthRemoved = "MAX_LENGTH_REMOVED"
        case maxLengthIncreased = "MAX_LENGTH_INCREASED"
        case maxLengthDecreased = "MAX_LENGTH_DECREASED"
        case minLengthAdded = "MIN_LENGTH_ADDED"
        case minLengthRemoved = "MIN_LENGTH_REMOVED"
        case minLengthIncreased = "MIN_LENGTH_INCREASED"
        case minLengthDecreased = "MIN_LENGTH_DECREASED"
        case patternAdded = "PATTERN_ADDED"
        case patternRemoved = "PATTERN_REMOVED"
        case patternChanged = "PATTERN_CHANGED"
        // Numbers.
        case maximumAdded = "MAXIMUM_ADDED"
        case maximumRemoved = "MAXIMUM_REMOVED"
        case maximumIncreased = "MAXIMUM_INCREASED"
        case maximumDecreased = "MAXIMUM_DECREASED"
        case minimumAdded = "MINIMUM_ADDED"
        case minimumRemoved = "MINIMUM_REMOVED"
        case minimumIncreased = "MINIMUM_INCREASED"
        case minimumDecreased = "MINIMUM_DECREASED"
        case exclusiveMaximumAdded = "EXCLUSIVE_MAXIMUM_ADDED"
        case exclusiveMaximumRemoved = "EXCLUSIVE_MAXIMUM_REMOVED"
        case exclusiveMaximumIncreased = "EXCLUSIVE_MAXIMUM_INCREASED"
        case exclusiveMaximumDecreased = "EXCLUSIVE_MAXIMUM_DECREASED"
        case exclusiveMinimumAdded = "EXCLUSIVE_MINIMUM_ADDED"
        case exclusiveMinimumRemoved = "EXCLUSIVE_MINIMUM_REMOVED"
        case exclusiveMinimumIncreased = "EXCLUSIVE_MINIMUM_INCREASED"
        case exclusiveMinimumDecreased = "EXCLUSIVE_MINIMUM_DECREASED"
        case multipleOfAdded = "MULTIPLE_OF_ADDED"
        case multipleOfRemoved = "MULTIPLE_OF_REMOVED"
        case multipleOfExpanded = "MULTIPLE_OF_EXPANDED"
        case multipleOfReduced = "MULTIPLE_OF_REDUCED"
        case multipleOfChanged = "MULTIPLE_OF_CHANGED"
        // Objects.
        case requiredAttributeAdded = "REQUIRED_ATTRIBUTE_ADDED"
        case requiredAttributeWithDefaultAdded = "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"
        case requiredAttributeRemoved = "REQUIRED_ATTRIBUTE_REMOVED"
        case maxPropertiesAdded = "MAX_PROPERTIES_ADDED"
        case maxPropertiesRemoved = "MAX_PROPERTIES_REMOVED"
        case maxPropertiesIncreased = "MAX_PROPERTIES_INCREASED"
        case maxPropertiesDecreased = "MAX_PROPERTIES_DECREASED"
        case minPropertiesAdded = "MIN_PROPERTIES_ADDED"
        case minPropertiesRemoved = "MIN_PROPERTIES_REMOVED"
        case minPropertiesIncreased = "MIN_PROPERTIES_INCREASED"
        case minPropertiesDecreased = "MIN_PROPERTIES_DECREASED"
        case additionalPropertiesAdded = "ADDITIONAL_PROPERTIES_ADDED"
        case additionalPropertiesRemoved = "ADDITIONAL_PROPERTIES_REMOVED"
        case additionalPropertiesExtended = "ADDITIONAL_PROPERTIES_EXTENDED"
        case additionalPropertiesNarrowed = "ADDITIONAL_PROPERTIES_NARROWED"
        case propertyAddedToOpenContentModel = "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
        case propertyWithEmptySchemaAddedToOpenContentModel = "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
        case requiredPropertyAddedToUnopenContentModel = "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
        case requiredPropertyWithDefaultAddedToUnopenContentModel = "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"
        case optionalPropertyAddedToUnopenContentModel = "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"
        case propertyRemovedFromOpenContentModel = "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"
        case propertyRemovedFromClosedContentModel = "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"
        case propertyAddedIsCoveredByPartiallyOpenContentModel = "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        case propertyAddedNotCoveredByPartiallyOpenContentModel = "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        case propertyRemovedIsCoveredByPartiallyOpenContentModel = "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        case propertyRemovedNotCoveredByPartiallyOpenContentModel = "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        // Arrays.
        case maxItemsAdded = "MAX_ITEMS_ADDED"
        case maxItemsRemoved = "MAX_ITEMS_REMOVED"
        case maxItemsIncreased = "MAX_ITEMS_INCREASED"
        case maxItemsDecreased = "MAX_ITEMS_DECREASED"
        case minItemsAdded = "MIN_ITEMS_ADDED"
        case minItemsRemoved = "MIN_ITEMS_REMOVED"
        case minItemsIncreased = "MIN_ITEMS_INCREASED"
        case minItemsDecreased = "MIN_ITEMS_DECREASED"
        case uniqueItemsAdded = "UNIQUE_ITEMS_ADDED"
        case uniqueItemsRemoved = "UNIQUE_ITEMS_REMOVED"
        case additionalItemsAdded = "ADDITIONAL_ITEMS_ADDED"
        case additionalItemsRemoved = "ADDITIONAL_ITEMS_REMOVED"
        case additionalItemsExtended = "ADDITIONAL_ITEMS_EXTENDED"
        case additionalItemsNarrowed = "ADDITIONAL_ITEMS_NARROWED"
        case itemAddedToOpenContentModel = "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"
        case itemWithEmptySchemaAddedToOpenContentModel = "ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"
        case itemAddedToClosedContentModel = "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"
        case itemRemovedFromOpenContentModel = "ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL"
        case itemRemovedFromClosedContentModel = "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"
        case itemAddedIsCoveredByPartiallyOpenContentModel = "ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        case itemAddedNotCoveredByPartiallyOpenContentModel = "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        case itemRemovedIsCoveredByPartiallyOpenContentModel = "ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        case itemRemovedNotCoveredByPartiallyOpenContentModel = "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"
        // Enumerations (`const` counts as a one-value enum).
        case enumArrayExtended = "ENUM_ARRAY_EXTENDED"
        case enumArrayNarrowed = "ENUM_ARRAY_NARROWED"
        case enumArrayChanged = "ENUM_ARRAY_CHANGED"
        // Combinators.
        case combinedTypeExtended = "COMBINED_TYPE_EXTENDED"
        case combinedTypeChanged = "COMBINED_TYPE_CHANGED"
        case productTypeExtended = "PRODUCT_TYPE_EXTENDED"
        case productTypeNarrowed = "PRODUCT_TYPE_NARROWED"
        case sumTypeExtended = "SUM_TYPE_EXTENDED"
        case sumTypeNarrowed = "SUM_TYPE_NARROWED"
        case combinedTypeSubschemasChanged = "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
        case notTypeExtended = "NOT_TYPE_EXTENDED"
        case notTypeNarrowed = "NOT_TYPE_NARROWED"
        /// Floe's own: the comparison gave up after too many steps (pathologically nested combinators). Refusing is
        /// the safe answer for a registry, and it keeps one request from occupying a core.
        case schemaTooComplex = "SCHEMA_TOO_COMPLEX"

        /// Whether a reader with this difference still reads everything the writer admits.
        public var isCompatible: Bool { Self.compatible.contains(self) }

        private static let compatible: Set<Kind> = [
            .idChanged, .descriptionChanged, .titleChanged, .defaultChanged, .typeExtended,
            .maxLengthRemoved, .maxLengthIncreased, .minLengthRemoved, .minLengthDecreased, .patternRemoved,
            .maximumRemoved, .maximumIncreased, .minimumRemoved, .minimumDecreased,
            .exclusiveMaximumRemoved, .exclusiveMaximumIncreased, .exclusiveMinimumRemoved, .exclusiveMinimumDecreased,
            .multipleOfRemoved, .multipleOfReduced,
            .requiredAttributeWithDefaultAdded, .requiredAttributeRemoved,
            .maxPropertiesRemoved, .maxPropertiesIncreased, .minPropertiesRemoved, .minPropertiesDecreased,
            .additionalPropertiesAdded, .additionalPropertiesExtended,
            .propertyWithEmptySchemaAddedToOpenContentModel, .requiredPropertyWithDefaultAddedToUnopenContentModel,
            .optionalPropertyAddedToUnopenContentModel, .propertyRemovedFromOpenContentModel,
            .propertyAddedIsCoveredByPartiallyOpenContentModel, .propertyRemovedIsCoveredByPartiallyOpenContentModel,
            .maxItemsRemoved, .maxItemsIncreased, .minItemsRemoved, .minItemsDecreased, .uniqueItemsRemoved,
            .additionalItemsAdded, .additionalItemsExtended, .itemWithEmptySchemaAddedToOpenContentModel,
            .itemAddedToClosedContentModel, .itemRemovedFromOpenContentModel,
            .itemAddedIsCoveredByPartiallyOpenContentModel, .itemRemovedIsCoveredByPartiallyOpenContentModel,
            .enumArrayExtended, .combinedTypeExtended, .productTypeNarrowed, .sumTypeExtended, .notTypeNarrowed,
        ]
    }

    public var kind: Kind
    /// Where the difference is, as a JSON pointer fragment (`#/properties/a/items`).
    public var path: String

    public init(_ kind: Kind, at path: String) {
        self.kind = kind
        self.path = path
    }

    public var isCompatible: Bool { kind.isCompatible }

    /// Confluent's wording, which clients and people grep for in 409 messages.
    public var description: String { "Difference{jsonPath='\(path)', type=\(kind.rawValue)}" }
}
