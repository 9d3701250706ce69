// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.
//
// librdkafka, loaded with dlopen on first use instead of linked.
//
// Linking -lrdkafka makes the dynamic loader map librdkafka and everything it needs (OpenSSL, Cyrus SASL, zstd,
// lz4, zlib) into every `floe` process at start: about 3 MiB of resident memory for a server that may never attach
// a Kafka cluster. So `floe` links only libdl, and this target resolves the librdkafka functions Floe uses the
// first time a Kafka client is made (`floe_rdkafka_load`).
//
// <librdkafka/rdkafka.h> (librdkafka-dev) is included for its types, enums and constants only: calling one of its
// functions directly would be an undefined symbol at link time. Each function Floe calls has a `floe_`-prefixed
// trampoline with the same signature, declared from the one list below; shim.c checks at compile time that every
// trampoline's type equals the real function's, so a wrong declaration cannot build.
#ifndef FLOE_CRDKAFKA_H
#define FLOE_CRDKAFKA_H

#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The oldest librdkafka Floe accepts (2.0.2, Debian bookworm's): the transactional and admin calls it uses exist
/// from there on.
#define FLOE_RDKAFKA_MIN_VERSION 0x020002ff

/// Loads librdkafka once per process (later calls return the first call's outcome). The library is
/// `$FLOE_LIBRDKAFKA` when that is set, else `librdkafka.so.1` (`librdkafka.1.dylib` on macOS) from the loader's
/// search path.
/// Returns 0 when every function below is usable; otherwise -1, with a one-line reason (naming the missing
/// library or symbol, or a too old version, and how to install it) written to `err` (NUL-terminated, at most
/// `errlen` bytes). No trampoline may be called unless this returned 0.
int floe_rdkafka_load(char *err, size_t errlen);

/// Every librdkafka function Floe calls, once: X(return type, name, (parameters), (arguments)) for functions
/// returning a value, V(name, (parameters), (arguments)) for void ones. The header declares `floe_<name>` from it
/// and shim.c resolves `<name>` with dlsym and defines the trampoline from the same entry.
#define FLOE_RDKAFKA_FUNCTIONS(X, V) \
    /* library */ \
    X(int, rd_kafka_version, (void), ()) \
    X(const char *, rd_kafka_version_str, (void), ()) \
    X(const char *, rd_kafka_err2str, (rd_kafka_resp_err_t err), (err)) \
    X(const char *, rd_kafka_err2name, (rd_kafka_resp_err_t err), (err)) \
    V(rd_kafka_mem_free, (rd_kafka_t *rk, void *ptr), (rk, ptr)) \
    /* configuration and handles */ \
    X(rd_kafka_conf_t *, rd_kafka_conf_new, (void), ()) \
    V(rd_kafka_conf_destroy, (rd_kafka_conf_t *conf), (conf)) \
    X(rd_kafka_conf_res_t, rd_kafka_conf_set, \
      (rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr, size_t errstr_size), \
      (conf, name, value, errstr, errstr_size)) \
    V(rd_kafka_conf_set_opaque, (rd_kafka_conf_t *conf, void *opaque), (conf, opaque)) \
    V(rd_kafka_conf_set_log_cb, \
      (rd_kafka_conf_t *conf, void (*log_cb)(const rd_kafka_t *rk, int level, const char *fac, const char *buf)), \
      (conf, log_cb)) \
    V(rd_kafka_conf_set_error_cb, \
      (rd_kafka_conf_t *conf, void (*error_cb)(rd_kafka_t *rk, int err, const char *reason, void *opaque)), \
      (conf, error_cb)) \
    V(rd_kafka_conf_set_dr_msg_cb, \
      (rd_kafka_conf_t *conf, \
       void (*dr_msg_cb)(rd_kafka_t *rk, const rd_kafka_message_t *rkmessage, void *opaque)), \
      (conf, dr_msg_cb)) \
    X(rd_kafka_t *, rd_kafka_new, \
      (rd_kafka_type_t type, rd_kafka_conf_t *conf, char *errstr, size_t errstr_size), \
      (type, conf, errstr, errstr_size)) \
    V(rd_kafka_destroy, (rd_kafka_t *rk), (rk)) \
    X(void *, rd_kafka_opaque, (const rd_kafka_t *rk), (rk)) \
    X(int, rd_kafka_poll, (rd_kafka_t *rk, int timeout_ms), (rk, timeout_ms)) \
    X(rd_kafka_resp_err_t, rd_kafka_flush, (rd_kafka_t *rk, int timeout_ms), (rk, timeout_ms)) \
    X(rd_kafka_resp_err_t, rd_kafka_fatal_error, (rd_kafka_t *rk, char *errstr, size_t errstr_size), \
      (rk, errstr, errstr_size)) \
    /* errors */ \
    X(rd_kafka_resp_err_t, rd_kafka_error_code, (const rd_kafka_error_t *error), (error)) \
    X(const char *, rd_kafka_error_string, (const rd_kafka_error_t *error), (error)) \
    X(int, rd_kafka_error_is_fatal, (const rd_kafka_error_t *error), (error)) \
    X(int, rd_kafka_error_is_retriable, (const rd_kafka_error_t *error), (error)) \
    X(int, rd_kafka_error_txn_requires_abort, (const rd_kafka_error_t *error), (error)) \
    V(rd_kafka_error_destroy, (rd_kafka_error_t *error), (error)) \
    /* topic partition lists */ \
    X(rd_kafka_topic_partition_list_t *, rd_kafka_topic_partition_list_new, (int size), (size)) \
    V(rd_kafka_topic_partition_list_destroy, (rd_kafka_topic_partition_list_t *rkparlist), (rkparlist)) \
    X(rd_kafka_topic_partition_t *, rd_kafka_topic_partition_list_add, \
      (rd_kafka_topic_partition_list_t *rktparlist, const char *topic, int32_t partition), \
      (rktparlist, topic, partition)) \
    /* metadata and offsets */ \
    X(rd_kafka_resp_err_t, rd_kafka_metadata, \
      (rd_kafka_t *rk, int all_topics, rd_kafka_topic_t *only_rkt, const struct rd_kafka_metadata **metadatap, \
       int timeout_ms), \
      (rk, all_topics, only_rkt, metadatap, timeout_ms)) \
    V(rd_kafka_metadata_destroy, (const struct rd_kafka_metadata *metadata), (metadata)) \
    X(char *, rd_kafka_clusterid, (rd_kafka_t *rk, int timeout_ms), (rk, timeout_ms)) \
    X(rd_kafka_topic_t *, rd_kafka_topic_new, (rd_kafka_t *rk, const char *topic, rd_kafka_topic_conf_t *conf), \
      (rk, topic, conf)) \
    V(rd_kafka_topic_destroy, (rd_kafka_topic_t *rkt), (rkt)) \
    X(const char *, rd_kafka_topic_name, (const rd_kafka_topic_t *rkt), (rkt)) \
    X(rd_kafka_resp_err_t, rd_kafka_query_watermark_offsets, \
      (rd_kafka_t *rk, const char *topic, int32_t partition, int64_t *low, int64_t *high, int timeout_ms), \
      (rk, topic, partition, low, high, timeout_ms)) \
    X(rd_kafka_resp_err_t, rd_kafka_offsets_for_times, \
      (rd_kafka_t *rk, rd_kafka_topic_partition_list_t *offsets, int timeout_ms), (rk, offsets, timeout_ms)) \
    X(rd_kafka_resp_err_t, rd_kafka_committed, \
      (rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions, int timeout_ms), (rk, partitions, timeout_ms)) \
    /* producer and transactions */ \
    X(rd_kafka_error_t *, rd_kafka_produceva, (rd_kafka_t *rk, const rd_kafka_vu_t *vus, size_t cnt), \
      (rk, vus, cnt)) \
    X(rd_kafka_error_t *, rd_kafka_init_transactions, (rd_kafka_t *rk, int timeout_ms), (rk, timeout_ms)) \
    X(rd_kafka_error_t *, rd_kafka_begin_transaction, (rd_kafka_t *rk), (rk)) \
    X(rd_kafka_error_t *, rd_kafka_commit_transaction, (rd_kafka_t *rk, int timeout_ms), (rk, timeout_ms)) \
    X(rd_kafka_error_t *, rd_kafka_abort_transaction, (rd_kafka_t *rk, int timeout_ms), (rk, timeout_ms)) \
    X(rd_kafka_error_t *, rd_kafka_send_offsets_to_transaction, \
      (rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *offsets, \
       const rd_kafka_consumer_group_metadata_t *cgmetadata, int timeout_ms), \
      (rk, offsets, cgmetadata, timeout_ms)) \
    X(rd_kafka_consumer_group_metadata_t *, rd_kafka_consumer_group_metadata_new, (const char *group_id), \
      (group_id)) \
    V(rd_kafka_consumer_group_metadata_destroy, (rd_kafka_consumer_group_metadata_t *cgmd), (cgmd)) \
    /* headers */ \
    X(rd_kafka_headers_t *, rd_kafka_headers_new, (size_t initial_count), (initial_count)) \
    V(rd_kafka_headers_destroy, (rd_kafka_headers_t *hdrs), (hdrs)) \
    X(rd_kafka_resp_err_t, rd_kafka_header_add, \
      (rd_kafka_headers_t *hdrs, const char *name, ssize_t name_size, const void *value, ssize_t value_size), \
      (hdrs, name, name_size, value, value_size)) \
    X(rd_kafka_resp_err_t, rd_kafka_header_get_all, \
      (const rd_kafka_headers_t *hdrs, size_t idx, const char **namep, const void **valuep, size_t *sizep), \
      (hdrs, idx, namep, valuep, sizep)) \
    /* consumer */ \
    X(rd_kafka_resp_err_t, rd_kafka_assign, (rd_kafka_t *rk, const rd_kafka_topic_partition_list_t *partitions), \
      (rk, partitions)) \
    X(rd_kafka_error_t *, rd_kafka_seek_partitions, \
      (rd_kafka_t *rk, rd_kafka_topic_partition_list_t *partitions, int timeout_ms), (rk, partitions, timeout_ms)) \
    X(rd_kafka_resp_err_t, rd_kafka_consumer_close, (rd_kafka_t *rk), (rk)) \
    X(rd_kafka_queue_t *, rd_kafka_queue_get_consumer, (rd_kafka_t *rk), (rk)) \
    X(ssize_t, rd_kafka_consume_batch_queue, \
      (rd_kafka_queue_t *rkqu, int timeout_ms, rd_kafka_message_t **rkmessages, size_t rkmessages_size), \
      (rkqu, timeout_ms, rkmessages, rkmessages_size)) \
    V(rd_kafka_queue_cb_event_enable, \
      (rd_kafka_queue_t *rkqu, void (*event_cb)(rd_kafka_t *rk, void *qev_opaque), void *qev_opaque), \
      (rkqu, event_cb, qev_opaque)) \
    V(rd_kafka_message_destroy, (rd_kafka_message_t *rkmessage), (rkmessage)) \
    X(int64_t, rd_kafka_message_timestamp, (const rd_kafka_message_t *rkmessage, rd_kafka_timestamp_type_t *tstype), \
      (rkmessage, tstype)) \
    X(rd_kafka_resp_err_t, rd_kafka_message_headers, \
      (const rd_kafka_message_t *rkmessage, rd_kafka_headers_t **hdrsp), (rkmessage, hdrsp)) \
    /* queues and events (admin results) */ \
    X(rd_kafka_queue_t *, rd_kafka_queue_new, (rd_kafka_t *rk), (rk)) \
    V(rd_kafka_queue_destroy, (rd_kafka_queue_t *rkqu), (rkqu)) \
    X(rd_kafka_event_t *, rd_kafka_queue_poll, (rd_kafka_queue_t *rkqu, int timeout_ms), (rkqu, timeout_ms)) \
    X(rd_kafka_resp_err_t, rd_kafka_event_error, (rd_kafka_event_t *rkev), (rkev)) \
    X(const char *, rd_kafka_event_error_string, (rd_kafka_event_t *rkev), (rkev)) \
    V(rd_kafka_event_destroy, (rd_kafka_event_t *rkev), (rkev)) \
    /* admin */ \
    X(rd_kafka_AdminOptions_t *, rd_kafka_AdminOptions_new, (rd_kafka_t *rk, rd_kafka_admin_op_t for_api), \
      (rk, for_api)) \
    V(rd_kafka_AdminOptions_destroy, (rd_kafka_AdminOptions_t *options), (options)) \
    X(rd_kafka_resp_err_t, rd_kafka_AdminOptions_set_request_timeout, \
      (rd_kafka_AdminOptions_t *options, int timeout_ms, char *errstr, size_t errstr_size), \
      (options, timeout_ms, errstr, errstr_size)) \
    X(rd_kafka_resp_err_t, rd_kafka_AdminOptions_set_operation_timeout, \
      (rd_kafka_AdminOptions_t *options, int timeout_ms, char *errstr, size_t errstr_size), \
      (options, timeout_ms, errstr, errstr_size)) \
    X(rd_kafka_NewTopic_t *, rd_kafka_NewTopic_new, \
      (const char *topic, int num_partitions, int replication_factor, char *errstr, size_t errstr_size), \
      (topic, num_partitions, replication_factor, errstr, errstr_size)) \
    V(rd_kafka_NewTopic_destroy, (rd_kafka_NewTopic_t *new_topic), (new_topic)) \
    X(rd_kafka_resp_err_t, rd_kafka_NewTopic_set_config, \
      (rd_kafka_NewTopic_t *new_topic, const char *name, const char *value), (new_topic, name, value)) \
    V(rd_kafka_CreateTopics, \
      (rd_kafka_t *rk, rd_kafka_NewTopic_t **new_topics, size_t new_topic_cnt, \
       const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu), \
      (rk, new_topics, new_topic_cnt, options, rkqu)) \
    X(const rd_kafka_CreateTopics_result_t *, rd_kafka_event_CreateTopics_result, (rd_kafka_event_t *rkev), (rkev)) \
    X(const rd_kafka_topic_result_t **, rd_kafka_CreateTopics_result_topics, \
      (const rd_kafka_CreateTopics_result_t *result, size_t *cntp), (result, cntp)) \
    X(rd_kafka_DeleteTopic_t *, rd_kafka_DeleteTopic_new, (const char *topic), (topic)) \
    V(rd_kafka_DeleteTopic_destroy, (rd_kafka_DeleteTopic_t *del_topic), (del_topic)) \
    V(rd_kafka_DeleteTopics, \
      (rd_kafka_t *rk, rd_kafka_DeleteTopic_t **del_topics, size_t del_topic_cnt, \
       const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu), \
      (rk, del_topics, del_topic_cnt, options, rkqu)) \
    X(const rd_kafka_DeleteTopics_result_t *, rd_kafka_event_DeleteTopics_result, (rd_kafka_event_t *rkev), (rkev)) \
    X(const rd_kafka_topic_result_t **, rd_kafka_DeleteTopics_result_topics, \
      (const rd_kafka_DeleteTopics_result_t *result, size_t *cntp), (result, cntp)) \
    X(rd_kafka_resp_err_t, rd_kafka_topic_result_error, (const rd_kafka_topic_result_t *topicres), (topicres)) \
    X(const char *, rd_kafka_topic_result_error_string, (const rd_kafka_topic_result_t *topicres), (topicres)) \
    X(const char *, rd_kafka_topic_result_name, (const rd_kafka_topic_result_t *topicres), (topicres)) \
    X(rd_kafka_ConfigResource_t *, rd_kafka_ConfigResource_new, \
      (rd_kafka_ResourceType_t restype, const char *resname), (restype, resname)) \
    V(rd_kafka_ConfigResource_destroy, (rd_kafka_ConfigResource_t *config), (config)) \
    X(rd_kafka_resp_err_t, rd_kafka_ConfigResource_set_config, \
      (rd_kafka_ConfigResource_t *config, const char *name, const char *value), (config, name, value)) \
    X(const rd_kafka_ConfigEntry_t **, rd_kafka_ConfigResource_configs, \
      (const rd_kafka_ConfigResource_t *config, size_t *cntp), (config, cntp)) \
    X(rd_kafka_resp_err_t, rd_kafka_ConfigResource_error, (const rd_kafka_ConfigResource_t *config), (config)) \
    X(const char *, rd_kafka_ConfigResource_error_string, (const rd_kafka_ConfigResource_t *config), (config)) \
    V(rd_kafka_DescribeConfigs, \
      (rd_kafka_t *rk, rd_kafka_ConfigResource_t **configs, size_t config_cnt, \
       const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu), \
      (rk, configs, config_cnt, options, rkqu)) \
    X(const rd_kafka_DescribeConfigs_result_t *, rd_kafka_event_DescribeConfigs_result, (rd_kafka_event_t *rkev), \
      (rkev)) \
    X(const rd_kafka_ConfigResource_t **, rd_kafka_DescribeConfigs_result_resources, \
      (const rd_kafka_DescribeConfigs_result_t *result, size_t *cntp), (result, cntp)) \
    V(rd_kafka_AlterConfigs, \
      (rd_kafka_t *rk, rd_kafka_ConfigResource_t **configs, size_t config_cnt, \
       const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu), \
      (rk, configs, config_cnt, options, rkqu)) \
    X(const rd_kafka_AlterConfigs_result_t *, rd_kafka_event_AlterConfigs_result, (rd_kafka_event_t *rkev), (rkev)) \
    X(const rd_kafka_ConfigResource_t **, rd_kafka_AlterConfigs_result_resources, \
      (const rd_kafka_AlterConfigs_result_t *result, size_t *cntp), (result, cntp)) \
    X(const char *, rd_kafka_ConfigEntry_name, (const rd_kafka_ConfigEntry_t *entry), (entry)) \
    X(const char *, rd_kafka_ConfigEntry_value, (const rd_kafka_ConfigEntry_t *entry), (entry)) \
    X(rd_kafka_ConfigSource_t, rd_kafka_ConfigEntry_source, (const rd_kafka_ConfigEntry_t *entry), (entry)) \
    X(int, rd_kafka_ConfigEntry_is_read_only, (const rd_kafka_ConfigEntry_t *entry), (entry)) \
    X(int, rd_kafka_ConfigEntry_is_default, (const rd_kafka_ConfigEntry_t *entry), (entry)) \
    X(int, rd_kafka_ConfigEntry_is_sensitive, (const rd_kafka_ConfigEntry_t *entry), (entry)) \
    X(rd_kafka_DeleteGroup_t *, rd_kafka_DeleteGroup_new, (const char *group), (group)) \
    V(rd_kafka_DeleteGroup_destroy, (rd_kafka_DeleteGroup_t *del_group), (del_group)) \
    V(rd_kafka_DeleteGroups, \
      (rd_kafka_t *rk, rd_kafka_DeleteGroup_t **del_groups, size_t del_group_cnt, \
       const rd_kafka_AdminOptions_t *options, rd_kafka_queue_t *rkqu), \
      (rk, del_groups, del_group_cnt, options, rkqu)) \
    X(const rd_kafka_DeleteGroups_result_t *, rd_kafka_event_DeleteGroups_result, (rd_kafka_event_t *rkev), (rkev)) \
    X(const rd_kafka_group_result_t **, rd_kafka_DeleteGroups_result_groups, \
      (const rd_kafka_DeleteGroups_result_t *result, size_t *cntp), (result, cntp)) \
    X(const rd_kafka_error_t *, rd_kafka_group_result_error, (const rd_kafka_group_result_t *groupres), (groupres)) \
    X(const char *, rd_kafka_group_result_name, (const rd_kafka_group_result_t *groupres), (groupres))

#define FLOE_RDKAFKA_DECLARE(ret, name, params, args) ret floe_##name params;
#define FLOE_RDKAFKA_DECLARE_VOID(name, params, args) void floe_##name params;
FLOE_RDKAFKA_FUNCTIONS(FLOE_RDKAFKA_DECLARE, FLOE_RDKAFKA_DECLARE_VOID)
#undef FLOE_RDKAFKA_DECLARE
#undef FLOE_RDKAFKA_DECLARE_VOID

/// Constants that are cast expressions in rdkafka.h, which Swift does not import.
static const int32_t FLOE_RD_KAFKA_PARTITION_UA = -1;

#ifdef __cplusplus
}
#endif

#endif
