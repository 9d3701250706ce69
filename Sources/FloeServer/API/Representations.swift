// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.

import FloeCore
import FloeStore
import Foundation

/// The wire form of each control-plane resource, field for field as Confluent Cloud returns it.
struct Representations: Sendable {
    let links: ResourceLinks
    /// The regions whose compute pools run statements on Apache Flink (their pools show `status.engine` `flink`).
    var flinkRegions: Set<String> = []

    func time(_ date: Date) -> JSONValue { .string(RFC3339.format(date)) }

    func organization(_ organization: Organization) -> JSONValue {
        [
            "api_version": "org/v2", "kind": "Organization", "id": .string(organization.id),
            "metadata": [
                "self": .string(links.url("/org/v2/organizations/\(organization.id)")),
                "resource_name": .string(CRN.organization(organization.id).description),
                "created_at": time(organization.createdAt), "updated_at": time(organization.updatedAt),
            ],
            "display_name": .string(organization.displayName),
        ]
    }

    func environment(_ environment: Environment) -> JSONValue {
        .object(omittingNil: [
            ("api_version", "org/v2"), ("kind", "Environment"), ("id", .string(environment.id)),
            (
                "metadata",
                [
                    "self": .string(links.url("/org/v2/environments/\(environment.id)")),
                    "resource_name": .string(CRN.environment(environment.organizationID, environment.id).description),
                    "created_at": time(environment.createdAt), "updated_at": time(environment.updatedAt),
                ]
            ),
            ("display_name", .string(environment.displayName)),
            ("stream_governance_config", environment.streamGovernancePackage.map { ["package": .string($0)] }),
        ])
    }

    func user(_ user: User) -> JSONValue {
        [
            "api_version": "iam/v2", "kind": "User", "id": .string(user.id),
            "metadata": [
                "self": .string(links.url("/iam/v2/users/\(user.id)")),
                "resource_name": .string("crn://confluent.cloud/organization=\(user.organizationID)/user=\(user.id)"),
                "created_at": time(user.createdAt), "updated_at": time(user.updatedAt),
            ],
            "email": .string(user.email), "full_name": .string(user.fullName), "auth_type": .string(user.authType),
        ]
    }

    func serviceAccount(_ account: ServiceAccount) -> JSONValue {
        [
            "api_version": "iam/v2", "kind": "ServiceAccount", "id": .string(account.id),
            "metadata": [
                "self": .string(links.url("/iam/v2/service-accounts/\(account.id)")),
                "resource_name": .string("crn://confluent.cloud/organization=\(account.organizationID)/service-account=\(account.id)"),
                "created_at": time(account.createdAt), "updated_at": time(account.updatedAt),
            ],
            "display_name": .string(account.displayName), "description": .string(account.description),
        ]
    }

    /// An API key; `secret` only in the create response, `""` everywhere else (as Confluent Cloud does).
    func apiKey(_ key: APIKey, secret: String? = nil) -> JSONValue {
        let ownerIsUser = key.ownerID.hasPrefix("u-")
        let owner: JSONValue = [
            "id": .string(key.ownerID),
            "related": .string(links.url(ownerIsUser ? "/iam/v2/users/\(key.ownerID)" : "/iam/v2/service-accounts/\(key.ownerID)")),
            "resource_name": .string(
                "crn://confluent.cloud/organization=\(key.organizationID)/\(ownerIsUser ? "user" : "service-account")=\(key.ownerID)"),
            "api_version": "iam/v2", "kind": .string(ownerIsUser ? "User" : "ServiceAccount"),
        ]
        let resource: JSONValue
        switch key.resource {
        case .cloud:
            resource = [
                "id": "cloud", "environment": .null, "related": .string(links.url("/iam/v2/api-keys")),
                "resource_name": .string(CRN.organization(key.organizationID).description), "api_version": "iam/v2", "kind": "Cloud",
            ]
        case .flinkRegion(let regionID, let environmentID):
            let cloud = FlinkRegion.parseID(regionID)?.cloud.lowercased ?? ""
            resource = [
                "id": .string(regionID), "environment": .string(environmentID),
                "related": .string(links.url("/fcpm/v2/regions", query: [("cloud", cloud)])),
                "resource_name": .string(
                    CRN(authority: "api.confluent.cloud", elements: CRN.flinkRegion(key.organizationID, environmentID, regionID).elements)
                        .description),
                "api_version": "fcpm/v2", "kind": "Region",
            ]
        case .schemaRegistry(let clusterID, let environmentID):
            resource = [
                "id": .string(clusterID), "environment": .string(environmentID),
                "related": .string(links.url("/srcm/v3/clusters/\(clusterID)", query: [("environment", environmentID)])),
                "resource_name": .string(CRN.schemaRegistry(key.organizationID, environmentID, clusterID).description),
                "api_version": "srcm/v3", "kind": "SchemaRegistry",
            ]
        }
        return [
            "api_version": "iam/v2", "kind": "ApiKey", "id": .string(key.id),
            "metadata": [
                "self": .string(links.url("/iam/v2/api-keys/\(key.id)")),
                "resource_name": .string(
                    "crn://api.confluent.cloud/organization=\(key.organizationID)/\(ownerIsUser ? "user" : "service-account")=\(key.ownerID)/api-key=\(key.id)"
                ),
                "created_at": time(key.createdAt), "updated_at": time(key.updatedAt),
            ],
            "spec": [
                "display_name": .string(key.displayName), "description": .string(key.description), "secret": .string(secret ?? ""),
                "owner": owner, "resource": resource,
            ],
        ]
    }

    func roleBinding(_ binding: RoleBinding) -> JSONValue {
        [
            "api_version": "iam/v2", "kind": "RoleBinding", "id": .string(binding.id),
            "metadata": [
                "self": .string(links.url("/iam/v2/role-bindings/\(binding.id)")),
                "resource_name": .string("crn://confluent.cloud/organization=\(binding.organizationID)/role-binding=\(binding.id)"),
                "created_at": time(binding.createdAt),
            ],
            "principal": .string(binding.principal), "role_name": .string(binding.role.rawValue), "crn_pattern": .string(binding.crnPattern),
        ]
    }

    func computePool(_ pool: ComputePool) -> JSONValue {
        [
            "api_version": "fcpm/v2", "kind": "ComputePool", "id": .string(pool.id),
            "metadata": [
                "self": .string(links.url("/fcpm/v2/compute-pools/\(pool.id)")),
                "resource_name": .string(CRN.computePool(pool.organizationID, pool.environmentIDValue, pool.regionID, pool.id).description),
                "created_at": time(pool.createdAt), "updated_at": time(pool.updatedAt),
            ],
            "spec": [
                "display_name": .string(pool.displayName), "cloud": .string(pool.cloud.rawValue), "region": .string(pool.region),
                "max_cfu": .int(Int64(pool.maxCFU)), "enable_ai": .bool(pool.enableAI), "default_pool": .bool(pool.defaultPool),
                "environment": [
                    "id": .string(pool.environmentIDValue),
                    "related": .string(links.url("/org/v2/environments/\(pool.environmentIDValue)")),
                    "resource_name": .string(CRN.environment(pool.organizationID, pool.environmentIDValue).description),
                ],
            ],
            // `engine` is Floe's: where the pool's statements run (`embedded`, or `flink` for a region mapped to a cluster).
            "status": [
                "phase": .string(pool.phase.rawValue), "current_cfu": .int(Int64(pool.currentCFU)),
                "engine": .string(flinkRegions.contains(pool.regionID) ? "flink" : "embedded"),
            ],
        ]
    }

    /// An environment's Schema Registry as `srcm/v3` shows it. Its endpoint is this server's, under
    /// ``SchemaRegistryAPI/pathPrefix``; it is provisioned with its environment, so always PROVISIONED. Cloud and
    /// region are those of the server's first Flink region: the registry runs where Floe runs. An environment that
    /// names an external registry shows that one's URL as its endpoint (never its credentials).
    func schemaRegistryCluster(_ environment: FloeCore.Environment, clusterID: String, region: FlinkRegion?) -> JSONValue {
        [
            "api_version": "srcm/v3", "kind": "Cluster", "id": .string(clusterID),
            "metadata": [
                "self": .string(links.url("/srcm/v3/clusters/\(clusterID)", query: [("environment", environment.id)])),
                "resource_name": .string(CRN.schemaRegistry(environment.organizationID, environment.id, clusterID).description),
                "created_at": time(environment.createdAt), "updated_at": time(environment.createdAt),
            ],
            "spec": [
                "display_name": "Stream Governance Package", "package": .string(environment.streamGovernancePackage ?? "ESSENTIALS"),
                "http_endpoint": .string(environment.externalSchemaRegistry?.url ?? links.url(SchemaRegistryAPI.pathPrefix + clusterID)),
                "catalog_http_endpoint": .string(links.url(SchemaRegistryAPI.pathPrefix + clusterID)),
                "cloud": .string(region?.cloud.rawValue ?? "AWS"), "region": .string(region?.regionName ?? "us-east-1"),
                "environment": [
                    "id": .string(environment.id), "related": .string(links.url("/org/v2/environments/\(environment.id)")),
                    "resource_name": .string(CRN.environment(environment.organizationID, environment.id).description),
                ],
            ],
            "status": ["phase": "PROVISIONED"],
        ]
    }

    func region(_ region: FlinkRegion, organizationID: String) -> JSONValue {
        [
            "api_version": "fcpm/v2", "kind": "Region", "id": .string(region.id),
            "metadata": [
                "self": .string(links.url("/fcpm/v2/regions", query: [("cloud", region.cloud.rawValue), ("region_name", region.regionName)])),
                "resource_name": .string("crn://confluent.cloud/organization=\(organizationID)/region=\(region.id)"),
            ],
            "display_name": .string(region.displayName), "cloud": .string(region.cloud.rawValue), "region_name": .string(region.regionName),
            // Without a private listener the public endpoint is the only one: clients that pick the private endpoint
            // (confluent CLI's private networking) still reach the server.
            "http_endpoint": .string(links.endpoints.publicURL),
            "private_http_endpoint": .string(links.endpoints.privateURL ?? links.endpoints.publicURL),
        ]
    }

    func computePoolConfig(_ config: ComputePoolConfig) -> JSONValue {
        [
            "api_version": "fcpm/v2", "kind": "OrgComputePoolConfig", "organization_id": .string(config.organizationID),
            "metadata": ["self": .string(links.url("/fcpm/v2/compute-pool-config"))],
            "spec": ["default_pool_enabled": .bool(config.defaultPoolEnabled), "default_pool_max_cfu": .int(Int64(config.defaultPoolMaxCFU))],
        ]
    }
}
