// Floe — a self-hosted Flink SQL service that speaks the Confluent Cloud for Apache Flink API.
//
// The Java half of the stand-in Flink SQL Gateway (tests/flink/standin/gateway.py is the HTTP half). It runs the SQL on
// real Apache Flink 2.1.0 (PyFlink's jars): an in-JVM MiniCluster whose JobManager REST is Flink's own code, and per
// gateway session one TableEnvironment per runtime mode pointed at it with execution.target=remote.
//
// Why Java at all: Calcite keeps per-thread metadata providers, so TableEnvironment.create and every parse/execute must
// run on one Java thread. py4j gives a Python thread no stable Java thread (executeSql from another one fails with
// `NullPointerException: metadataHandlerProvider`), so all planning runs here on the single PLANNER thread.
//
// What it mirrors of flink-sql-gateway (which is not in any wheel), per Flink 2.1's source and
// shared/reference/flink-sql-gateway.md:
// - Operation status PENDING → RUNNING → FINISHED | ERROR, CANCELED, CLOSED with OperationStatus' transition rule (a
//   terminal status only goes to CLOSED; so cancel after FINISHED fails with "Failed to convert the Operation Status
//   from FINISHED to CANCELED for …").
// - ResultFetcher's token rule: the current token returns a new page and moves on (an empty PAYLOAD when nothing is
//   buffered yet, EOS when the result is drained), the previous token returns the same page again, any other token
//   fails with "Expecting token to be N or N-1, but found T.". NOT_READY only while the statement still executes.
// - Rows: rowFormat=JSON through RowDataToJsonConverters(ISO_8601, MapNullKeyMode.LITERAL, "null", false), per column;
//   PLAIN_TEXT through the TableResult's RowDataToStringConverter with SQL NULL as JSON null; `logicalType` as the
//   gateway's LogicalTypeJsonSerializer writes it.
// - Errors: the service wraps a failure as SqlGatewayException("Failed to <method>.", cause); gateway.py turns it into
//   HTTP 500 {"errors":["Internal server error.","<Exception on server side:\n…\nEnd of exception on server side>"]}.
package floe.standin;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.formats.common.TimestampFormat;
import org.apache.flink.formats.json.JsonFormatOptions;
import org.apache.flink.formats.json.RowDataToJsonConverters;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.NullNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableException;
import org.apache.flink.table.api.internal.TableEnvironmentImpl;
import org.apache.flink.table.api.internal.TableEnvironmentInternal;
import org.apache.flink.table.api.internal.TableResultInternal;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.delegation.Executor;
import org.apache.flink.table.gateway.api.utils.SqlGatewayException;
import org.apache.flink.table.operations.LoadModuleOperation;
import org.apache.flink.table.operations.ModifyOperation;
import org.apache.flink.table.operations.QueryOperation;
import org.apache.flink.table.operations.StatementSetOperation;
import org.apache.flink.table.operations.UnloadModuleOperation;
import org.apache.flink.table.operations.UseOperation;
import org.apache.flink.table.operations.command.AddJarOperation;
import org.apache.flink.table.operations.command.ResetOperation;
import org.apache.flink.table.operations.command.SetOperation;
import org.apache.flink.table.operations.ddl.AlterOperation;
import org.apache.flink.table.operations.ddl.CreateOperation;
import org.apache.flink.table.operations.ddl.DropOperation;
import org.apache.flink.table.types.logical.ArrayType;
import org.apache.flink.table.types.logical.BinaryType;
import org.apache.flink.table.types.logical.CharType;
import org.apache.flink.table.types.logical.DayTimeIntervalType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.MapType;
import org.apache.flink.table.types.logical.MultisetType;
import org.apache.flink.table.types.logical.NullType;
import org.apache.flink.table.types.logical.RawType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.table.types.logical.TimeType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;
import org.apache.flink.table.types.logical.YearMonthIntervalType;
import org.apache.flink.table.types.logical.ZonedTimestampType;
import org.apache.flink.table.utils.print.RowDataToStringConverter;
import org.apache.flink.util.CloseableIterator;
import org.apache.flink.util.ExceptionUtils;

/** One stand-in gateway: the MiniCluster, its sessions and their operations. Thread-safe; py4j calls it from many threads. */
public final class StandIn {
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final String RUNTIME_MODE = "execution.runtime-mode";
    private static final String SAVEPOINT_PATH = "execution.savepoint.path";
    /** A page holds at most this many rows… */
    static final int PAGE_ROWS = 1000;
    /** …and stops growing once its encoded rows pass this many bytes. */
    static final int PAGE_BYTES = 1 << 20;
    /** Rows a query may buffer ahead of its reader before its pump blocks (back-pressure on the job, like ResultStore). */
    static final int BUFFER_ROWS = 5000;

    /** The one thread every TableEnvironment is created, parsed and executed on (see the file comment). */
    private final ExecutorService planner =
            Executors.newSingleThreadExecutor(r -> daemon(r, "standin-planner"));

    private final MiniCluster cluster;
    private final Map<String, String> defaults;
    private final boolean keepSavepointPath;
    private final Map<UUID, Session> sessions = new ConcurrentHashMap<>();

    private StandIn(MiniCluster cluster, Map<String, String> defaults, boolean keepSavepointPath) {
        this.cluster = cluster;
        this.defaults = defaults;
        this.keepSavepointPath = keepSavepointPath;
    }

    /**
     * Starts the MiniCluster with its JobManager REST on 127.0.0.1:restPort and savepoints in savepointDir (a file: URI),
     * no restarts (a failing job must reach FAILED; once checkpointing is on the default strategy restarts forever).
     * keepSavepointPath: leave `execution.savepoint.path` in the session after a job used it, like the real gateway
     * (every later job then tries to restore from it until RESET); by default it is dropped once a job was submitted.
     */
    public static StandIn start(int restPort, String savepointDir, int slots, boolean keepSavepointPath) throws Exception {
        Configuration conf = new Configuration();
        conf.setString("rest.port", Integer.toString(restPort));
        conf.setString("rest.bind-address", "127.0.0.1");
        conf.setString("rest.address", "127.0.0.1");
        conf.setString("state.savepoints.dir", savepointDir);
        conf.setString("restart-strategy.type", "none");
        conf.setString("taskmanager.memory.managed.size", "256m");
        MiniCluster cluster = new MiniCluster(new MiniClusterConfiguration.Builder()
                .setConfiguration(conf)
                .setNumTaskManagers(1)
                .setNumSlotsPerTaskManager(slots)
                .build());
        cluster.start();
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("execution.target", "remote");
        defaults.put("rest.address", "127.0.0.1");
        defaults.put("rest.port", Integer.toString(restPort));
        defaults.put("parallelism.default", "1");
        defaults.put("restart-strategy.type", "none");
        defaults.put(RUNTIME_MODE, "streaming");
        return new StandIn(cluster, Collections.unmodifiableMap(defaults), keepSavepointPath);
    }

    /** Closes every session (cancelling their jobs), then the MiniCluster. */
    public void shutdown() throws Exception {
        for (UUID id : new ArrayList<>(sessions.keySet())) {
            Session s = sessions.remove(id);
            if (s != null) s.closeAll();
        }
        planner.shutdownNow();
        cluster.close();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Sessions

    /** POST /sessions: body {sessionName?, properties?}; the session's TableEnvironment is made at once (as Flink does). */
    public String openSession(String bodyJson) {
        try {
            JsonNode body = MAPPER.readTree(bodyJson == null || bodyJson.isBlank() ? "{}" : bodyJson);
            Map<String, String> conf = new LinkedHashMap<>(defaults);
            JsonNode props = body.path("properties");
            if (props.isObject()) props.fields().forEachRemaining(e -> conf.put(e.getKey(), e.getValue().asText()));
            Session s = new Session(UUID.randomUUID(), body.path("sessionName").asText(null), conf);
            onPlanner(() -> s.env());
            sessions.put(s.id, s);
            ObjectNode out = MAPPER.createObjectNode();
            out.put("sessionHandle", s.id.toString());
            return out.toString();
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to openSession.", t);
        }
    }

    public String heartbeat(String session) {
        try {
            session(session);
            return "{}";
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to heartbeat.", t);
        }
    }

    /** GET /sessions/:s → {"properties": the session's effective configuration}. */
    public String getSessionConfig(String session) {
        try {
            Session s = session(session);
            ObjectNode out = MAPPER.createObjectNode();
            ObjectNode props = out.putObject("properties");
            synchronized (s) {
                new TreeMap<>(s.conf).forEach(props::put);
            }
            return out.toString();
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to getSessionConfig.", t);
        }
    }

    /** POST /sessions/:s/configure-session: SET / RESET / DDL, run to completion; its result is dropped. */
    public String configureSession(String session, String statement) {
        try {
            Session s = session(session);
            onPlanner(() -> s.execute(statement, Map.of(), null));
            return "{}";
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to configure session.", t);
        }
    }

    /** DELETE /sessions/:s: closes its operations (cancelling their jobs) → {"status":"CLOSED"}. */
    public String closeSession(String session) {
        try {
            Session s = session(session);
            sessions.remove(s.id);
            s.closeAll();
            return "{\"status\":\"CLOSED\"}";
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to closeSession.", t);
        }
    }

    /** Closes the sessions untouched for idleMillis (sql-gateway.session.idle-timeout); returns how many. */
    public int expireIdleSessions(long idleMillis) {
        long now = System.currentTimeMillis();
        int n = 0;
        for (Session s : new ArrayList<>(sessions.values())) {
            if (now - s.lastAccess > idleMillis && sessions.remove(s.id, s)) {
                s.closeAll();
                n++;
            }
        }
        return n;
    }

    private Session session(String handle) {
        Session s = null;
        try {
            s = sessions.get(UUID.fromString(handle));
        } catch (IllegalArgumentException ignored) {
            // not a UUID: no such session either
        }
        if (s == null) throw new SqlGatewayException(String.format("Session '%s' does not exist.", handle));
        s.lastAccess = System.currentTimeMillis();
        return s;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Operations

    /** POST /sessions/:s/statements: returns the handle at once; the statement runs on the planner thread. */
    public String executeStatement(String session, String bodyJson) {
        try {
            Session s = session(session);
            JsonNode body = MAPPER.readTree(bodyJson == null || bodyJson.isBlank() ? "{}" : bodyJson);
            String statement = body.path("statement").asText(null);
            if (statement == null) throw new IllegalArgumentException("The statement must not be null.");
            Map<String, String> executionConfig = new LinkedHashMap<>();
            JsonNode ec = body.path("executionConfig");
            if (ec.isObject()) ec.fields().forEachRemaining(e -> executionConfig.put(e.getKey(), e.getValue().asText()));
            Operation op = new Operation(UUID.randomUUID());
            s.ops.put(op.id, op);
            op.status.set(Status.PENDING);
            op.task = planner.submit(() -> op.run(() -> s.execute(statement, executionConfig, op)));
            ObjectNode out = MAPPER.createObjectNode();
            out.put("operationHandle", op.id.toString());
            return out.toString();
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to execute statement.", t);
        }
    }

    public String operationStatus(String session, String operation) {
        try {
            return statusBody(operation(session(session), operation).status.get());
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to getOperationInfo.", t);
        }
    }

    public String cancelOperation(String session, String operation) {
        try {
            Operation op = operation(session(session), operation);
            op.cancel();
            return statusBody(op.status.get());
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to cancelOperation.", t);
        }
    }

    public String closeOperation(String session, String operation) {
        try {
            Session s = session(session);
            Operation op = operation(s, operation);
            s.ops.remove(op.id);
            op.close();
            return statusBody(op.status.get());
        } catch (Throwable t) {
            throw new SqlGatewayException("Failed to closeOperation.", t);
        }
    }

    /**
     * GET …/result/:token?rowFormat=F → the response body. uriPrefix is the request's path up to and including
     * "/result/" so that nextResultUri keeps the API version the client used.
     */
    public String fetchResults(String session, String operation, long token, String rowFormat, String uriPrefix) {
        try {
            try {
                return operation(session(session), operation).fetch(token, RowFormat.of(rowFormat), uriPrefix);
            } catch (Throwable t) {
                throw new SqlGatewayException("Failed to fetchResults.", t);
            }
        } catch (SqlGatewayException e) {
            // FetchResultsHandler wraps the service's exception once more (seen in Flink's SQL client tests).
            throw new SqlGatewayException(e);
        }
    }

    private static Operation operation(Session s, String handle) {
        Operation op = null;
        try {
            op = s.ops.get(UUID.fromString(handle));
        } catch (IllegalArgumentException ignored) {
            // not a UUID: no such operation either
        }
        if (op == null) {
            throw new SqlGatewayException(String.format(
                    "Can not find the submitted operation in the OperationManager with the %s.", handle));
        }
        return op;
    }

    private static String statusBody(Status status) {
        return "{\"status\":\"" + status.name() + "\"}";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // Errors

    /** The body Flink's REST handlers send for an unhandled exception (HTTP 500). */
    public static String errorBody(Throwable t) {
        ObjectNode out = MAPPER.createObjectNode();
        ArrayNode errors = out.putArray("errors");
        errors.add("Internal server error.");
        errors.add(String.format("<Exception on server side:%n%s%nEnd of exception on server side>",
                ExceptionUtils.stringifyException(t)));
        return out.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------

    private <T> T onPlanner(Callable<T> work) throws Exception {
        try {
            return planner.submit(work).get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof Exception) throw (Exception) cause;
            throw e;
        }
    }

    /** TableEnvironmentImpl's executor (a protected field; its implementation lives in the planner's class loader). */
    private static Executor executorOf(TableEnvironmentInternal env) {
        try {
            Field field = TableEnvironmentImpl.class.getDeclaredField("execEnv");
            field.setAccessible(true);
            return (Executor) field.get(env);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("TableEnvironmentImpl.execEnv is not reachable", e);
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** The gateway's SqlExecutionException (flink-sql-gateway, not in the wheel): an operation's failure. */
    public static final class SqlExecutionException extends RuntimeException {
        SqlExecutionException(String message, Throwable cause) {
            super(message, cause);
        }

        SqlExecutionException(String message) {
            super(message);
        }
    }

    enum Status {
        INITIALIZED, PENDING, RUNNING, FINISHED, CANCELED, CLOSED, ERROR, TIMEOUT;

        boolean terminal() {
            return this == FINISHED || this == CANCELED || this == CLOSED || this == ERROR || this == TIMEOUT;
        }

        /** OperationStatus.isValidStatusTransition: forward through the lifecycle; a terminal status only to CLOSED. */
        boolean canBecome(Status to) {
            if (this == CLOSED) return false;
            if (terminal()) return to == CLOSED;
            switch (this) {
                case INITIALIZED: return to != INITIALIZED;
                case PENDING: return to != INITIALIZED && to != PENDING;
                case RUNNING: return to.terminal();
                default: return false;
            }
        }
    }

    enum RowFormat {
        JSON, PLAIN_TEXT;

        static RowFormat of(String s) {
            if (s == null || s.isEmpty()) return JSON;
            return RowFormat.valueOf(s.toUpperCase());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** A gateway session: its configuration and, per runtime mode, a TableEnvironment sharing one default catalog. */
    final class Session {
        final UUID id;
        final String name;
        /** The effective configuration: the stand-in's defaults, the session's properties, then SET / RESET. */
        final Map<String, String> conf;
        final Map<UUID, Operation> ops = new ConcurrentHashMap<>();
        /** Touched only on the planner thread. */
        private final Map<String, TableEnvironmentInternal> envs = new LinkedHashMap<>();
        private Catalog sharedCatalog;
        private String currentCatalog = "default_catalog";
        private String currentDatabase = "default_database";
        volatile long lastAccess = System.currentTimeMillis();

        Session(UUID id, String name, Map<String, String> conf) {
            this.id = id;
            this.name = name;
            this.conf = conf;
        }

        /**
         * The TableEnvironment of the session's current runtime mode (planner thread). A TableEnvironment's mode is
         * fixed when it is made, so `SET 'execution.runtime-mode'` switches to another one; the two share the
         * default_catalog instance, so tables made in one are seen by the other (temporary objects are not shared).
         */
        TableEnvironmentInternal env() {
            return env(null);
        }

        /** The TableEnvironment of runtime mode `override` (a statement's executionConfig), else the session's. */
        TableEnvironmentInternal env(String override) {
            String mode;
            Configuration c = new Configuration();
            synchronized (this) {
                mode = (override != null ? override : conf.getOrDefault(RUNTIME_MODE, "streaming")).toLowerCase();
                conf.forEach(c::setString);
            }
            c.setString(RUNTIME_MODE, mode);
            TableEnvironmentInternal env = envs.get(mode);
            if (env != null) {
                if (!env.getCurrentCatalog().equals(currentCatalog)) env.useCatalog(currentCatalog);
                if (!env.getCurrentDatabase().equals(currentDatabase)) env.useDatabase(currentDatabase);
                return env;
            }
            EnvironmentSettings.Builder b = EnvironmentSettings.newInstance().withConfiguration(c);
            b = "batch".equals(mode) ? b.inBatchMode() : b.inStreamingMode();
            if (sharedCatalog != null) b = b.withBuiltInCatalogName("standin_builtin");
            env = (TableEnvironmentInternal) TableEnvironment.create(b.build());
            if (sharedCatalog == null) {
                sharedCatalog = env.getCatalog("default_catalog").orElseThrow();
            } else {
                env.registerCatalog("default_catalog", sharedCatalog);
                env.useCatalog(currentCatalog);
                env.useDatabase(currentDatabase);
                try {
                    env.executeSql("DROP CATALOG standin_builtin");
                } catch (RuntimeException ignored) {
                    // harmless when Flink refuses: it only shows in SHOW CATALOGS
                }
            }
            envs.put(mode, env);
            return env;
        }

        /** Runs one statement (planner thread) and makes the operation's result; op is null for configure-session. */
        Result execute(String statement, Map<String, String> executionConfig, Operation op) throws Exception {
            // Like the gateway's executor for one statement: the session's configuration plus executionConfig.
            TableEnvironmentInternal env = env(executionConfig.get(RUNTIME_MODE));
            List<org.apache.flink.table.operations.Operation> parsed = env.getParser().parse(statement);
            if (parsed.size() != 1) {
                throw new TableException("Unsupported SQL query! executeSql() only accepts a single SQL statement.");
            }
            org.apache.flink.table.operations.Operation operation = parsed.get(0);
            if (op == null && !configuresSession(operation)) {
                throw new UnsupportedOperationException(String.format(
                        "Unsupported statement for configuring session:%s\n"
                                + "The configureSession API only supports to execute statement of type "
                                + "CREATE TABLE, DROP TABLE, ALTER TABLE, "
                                + "CREATE DATABASE, DROP DATABASE, ALTER DATABASE, "
                                + "CREATE FUNCTION, DROP FUNCTION, ALTER FUNCTION, "
                                + "CREATE CATALOG, DROP CATALOG, USE CATALOG, USE [CATALOG.]DATABASE, "
                                + "CREATE VIEW, DROP VIEW, LOAD MODULE, UNLOAD MODULE, USE MODULE, ADD JAR.",
                        statement));
            }
            if (operation instanceof SetOperation) return set((SetOperation) operation);
            if (operation instanceof ResetOperation) return reset((ResetOperation) operation);
            Map<String, String> saved = new LinkedHashMap<>();
            executionConfig.forEach((k, v) -> {
                if (RUNTIME_MODE.equals(k)) return;  // chose the environment above
                saved.put(k, env.getConfig().getConfiguration().toMap().get(k));
                env.getConfig().set(k, v);
            });
            TableResultInternal result;
            try {
                result = env.executeInternal(operation);
            } finally {
                saved.forEach((k, v) -> {
                    if (v == null) env.getConfig().getConfiguration().removeKey(k);
                    else env.getConfig().set(k, v);
                });
                currentCatalog = env.getCurrentCatalog();
                currentDatabase = env.getCurrentDatabase();
            }
            Optional<JobClient> job = result.getJobClient();
            if (job.isPresent() && !keepSavepointPath) dropSavepointPath();
            String jobId = job.map(j -> j.getJobID().toString()).orElse(null);
            if (operation instanceof QueryOperation) {
                return Result.query(result, jobId, op);
            }
            if (operation instanceof ModifyOperation || operation instanceof StatementSetOperation) {
                // OperationExecutor.callModifyOperations: the job id as a row, "job id" STRING.
                ResolvedSchema schema = ResolvedSchema.of(
                        Column.physical("job id", org.apache.flink.table.api.DataTypes.STRING()));
                List<RowData> rows = new ArrayList<>();
                rows.add(GenericRowData.of(StringData.fromString(jobId)));
                return Result.rows(schema, rows, false, jobId, "SUCCESS_WITH_CONTENT", null);
            }
            List<RowData> rows = new ArrayList<>();
            try (CloseableIterator<RowData> it = result.collectInternal()) {
                it.forEachRemaining(rows::add);
            }
            return Result.rows(result.getResolvedSchema(), rows, false, jobId, result.getResultKind().name(),
                    result.getRowDataToStringConverter());
        }

        /** What OperationExecutor.configureSession accepts (it refuses queries and DML). */
        private boolean configuresSession(org.apache.flink.table.operations.Operation operation) {
            return operation instanceof SetOperation || operation instanceof ResetOperation
                    || operation instanceof CreateOperation || operation instanceof DropOperation
                    || operation instanceof UseOperation || operation instanceof AlterOperation
                    || operation instanceof LoadModuleOperation || operation instanceof UnloadModuleOperation
                    || operation instanceof AddJarOperation;
        }

        private Result set(SetOperation set) {
            if (set.getKey().isPresent()) {
                String key = set.getKey().get().trim();
                String value = set.getValue().orElse("").trim();
                synchronized (this) {
                    conf.put(key, value);
                }
                if (!RUNTIME_MODE.equals(key)) envs.values().forEach(e -> e.getConfig().set(key, value));
                return Result.ok();
            }
            ResolvedSchema schema = ResolvedSchema.of(
                    Column.physical("key", org.apache.flink.table.api.DataTypes.STRING()),
                    Column.physical("value", org.apache.flink.table.api.DataTypes.STRING()));
            List<RowData> rows = new ArrayList<>();
            synchronized (this) {
                new TreeMap<>(conf).forEach((k, v) ->
                        rows.add(GenericRowData.of(StringData.fromString(k), StringData.fromString(v))));
            }
            return Result.rows(schema, rows, false, null, "SUCCESS_WITH_CONTENT", null);
        }

        private Result reset(ResetOperation reset) {
            List<String> keys = new ArrayList<>();
            synchronized (this) {
                if (reset.getKey().isPresent()) keys.add(reset.getKey().get().trim());
                else keys.addAll(conf.keySet());
            }
            for (String key : keys) {
                String base = defaults.get(key);
                synchronized (this) {
                    if (base == null) conf.remove(key);
                    else conf.put(key, base);
                }
                if (RUNTIME_MODE.equals(key)) continue;
                for (TableEnvironmentInternal e : envs.values()) {
                    if (base == null) e.getConfig().getConfiguration().removeKey(key);
                    else e.getConfig().set(key, base);
                }
            }
            return Result.ok();
        }

        /**
         * A job took the savepoint path: later jobs of the session must not restore from it too. Removing it from the
         * TableConfig is not enough: building a pipeline copies the table configuration into the executor's
         * StreamExecutionEnvironment, whose configuration keeps it (that is how the path "leaks" into later jobs).
         */
        private void dropSavepointPath() {
            synchronized (this) {
                if (conf.remove(SAVEPOINT_PATH) == null) return;
            }
            for (TableEnvironmentInternal e : envs.values()) {
                e.getConfig().getConfiguration().removeKey(SAVEPOINT_PATH);
                if (e.getConfig().getRootConfiguration() instanceof Configuration) {
                    ((Configuration) e.getConfig().getRootConfiguration()).removeKey(SAVEPOINT_PATH);
                }
                ReadableConfig executorConf = executorOf(e).getConfiguration();
                if (executorConf instanceof Configuration) ((Configuration) executorConf).removeKey(SAVEPOINT_PATH);
            }
        }

        void closeAll() {
            for (UUID opId : new ArrayList<>(ops.keySet())) {
                Operation op = ops.remove(opId);
                if (op != null) {
                    try {
                        op.close();
                    } catch (RuntimeException ignored) {
                        // closing a session closes what it can
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** What a finished statement returns: its columns and either fixed rows or a pump over a running query's rows. */
    static final class Result {
        final ResolvedSchema schema;
        final boolean isQueryResult;
        final String jobId;
        final String resultKind;
        final RowDataToStringConverter toText;
        final Iterator<RowData> fixed;
        final Pump pump;

        private Result(ResolvedSchema schema, boolean isQueryResult, String jobId, String resultKind,
                       RowDataToStringConverter toText, Iterator<RowData> fixed, Pump pump) {
            this.schema = schema;
            this.isQueryResult = isQueryResult;
            this.jobId = jobId;
            this.resultKind = resultKind;
            this.toText = toText;
            this.fixed = fixed;
            this.pump = pump;
        }

        static Result ok() {
            TableResultInternal ok = TableResultInternal.TABLE_RESULT_OK;
            List<RowData> rows = new ArrayList<>();
            ok.collectInternal().forEachRemaining(rows::add);
            return rows(ok.getResolvedSchema(), rows, false, null, ok.getResultKind().name(),
                    ok.getRowDataToStringConverter());
        }

        static Result rows(ResolvedSchema schema, List<RowData> rows, boolean isQueryResult, String jobId,
                           String resultKind, RowDataToStringConverter toText) {
            return new Result(schema, isQueryResult, jobId, resultKind, toText, rows.iterator(), null);
        }

        static Result query(TableResultInternal result, String jobId, Operation owner) {
            Pump pump = new Pump(result, owner);
            return new Result(result.getResolvedSchema(), true, jobId, result.getResultKind().name(),
                    result.getRowDataToStringConverter(), null, pump);
        }

        /** Up to PAGE_ROWS rows, without waiting; empty when nothing is buffered; null at the end. */
        List<RowData> next() {
            if (pump != null) return pump.next();
            if (!fixed.hasNext()) return null;
            List<RowData> out = new ArrayList<>();
            while (fixed.hasNext() && out.size() < PAGE_ROWS) out.add(fixed.next());
            return out;
        }

        void close() {
            if (pump != null) pump.close();
        }
    }

    /**
     * Drains a query's collect iterator on a daemon thread into a bounded queue, so a fetch never blocks on the job.
     * Closing it closes the iterator, which cancels the job.
     */
    static final class Pump implements Runnable {
        private static final Object END = new Object();
        private final TableResultInternal result;
        private final LinkedBlockingQueue<Object> rows = new LinkedBlockingQueue<>(BUFFER_ROWS);
        private final Thread thread;
        private volatile CloseableIterator<RowData> it;
        private volatile Throwable failure;
        private volatile boolean closed;
        private boolean ended;

        Pump(TableResultInternal result, Operation owner) {
            this.result = result;
            this.thread = daemon(this, "standin-pump-" + (owner == null ? "configure" : owner.id));
            thread.start();
        }

        @Override
        public void run() {
            try {
                it = result.collectInternal();
                if (closed) return;
                while (!closed && it.hasNext()) rows.put(it.next());
            } catch (InterruptedException e) {
                // closed
            } catch (Throwable t) {
                if (!closed) failure = t;
            } finally {
                rows.offer(END);
            }
        }

        /** Like ResultStore.retrieveRecords: buffered rows (maybe none), null once drained and the job is done. */
        synchronized List<RowData> next() {
            if (ended) return null;
            List<Object> drained = new ArrayList<>();
            rows.drainTo(drained, PAGE_ROWS);
            List<RowData> out = new ArrayList<>(drained.size());
            for (Object o : drained) {
                if (o == END) {
                    ended = true;
                    break;
                }
                out.add((RowData) o);
            }
            if (ended && failure != null) {
                throw new SqlExecutionException("Error while retrieving result.", failure);
            }
            if (ended && out.isEmpty()) return null;
            return out;
        }

        void close() {
            closed = true;
            CloseableIterator<RowData> i = it;
            try {
                if (i != null) i.close();
            } catch (Exception ignored) {
                // the job may be gone already
            }
            result.getJobClient().ifPresent(j -> {
                try {
                    j.cancel().get(10, TimeUnit.SECONDS);
                } catch (Exception ignored) {
                    // finished or cancelled already
                }
            });
            thread.interrupt();
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** One submitted statement: its status, its result once executed, and the fetch state of ResultFetcher. */
    final class Operation {
        final UUID id;
        final AtomicReference<Status> status = new AtomicReference<>(Status.INITIALIZED);
        volatile java.util.concurrent.Future<?> task;
        private volatile Result result;
        private volatile SqlExecutionException error;
        // fetch state (guarded by this)
        private long currentToken;
        private Page previous;
        private boolean noMoreResults;
        private List<RowData> carry = new ArrayList<>();

        Operation(UUID id) {
            this.id = id;
        }

        /** Planner thread: RUNNING, execute, then FINISHED (or ERROR); a result that arrives after cancel is closed. */
        void run(Callable<Result> work) {
            if (!transition(Status.RUNNING)) return;
            try {
                Result r = work.call();
                result = r;
                if (!transition(Status.FINISHED)) r.close();
            } catch (Throwable t) {
                error = new SqlExecutionException(String.format("Failed to execute the operation %s.", id), t);
                transition(Status.ERROR);
            }
        }

        private boolean transition(Status to) {
            while (true) {
                Status from = status.get();
                if (!from.canBecome(to)) return false;
                if (status.compareAndSet(from, to)) return true;
            }
        }

        private void update(Status to) {
            while (true) {
                Status from = status.get();
                if (!from.canBecome(to)) {
                    throw new SqlGatewayException(String.format(
                            "Failed to convert the Operation Status from %s to %s for %s.", from, to, id));
                }
                if (status.compareAndSet(from, to)) return;
            }
        }

        void cancel() {
            update(Status.CANCELED);
            release();
        }

        void close() {
            update(Status.CLOSED);
            release();
        }

        private void release() {
            Result r = result;
            if (r != null) r.close();
        }

        synchronized String fetch(long token, RowFormat format, String uriPrefix) {
            Status st = status.get();
            if (st == Status.ERROR) throw error;
            if (st == Status.PENDING || st == Status.RUNNING || st == Status.INITIALIZED) {
                ObjectNode out = MAPPER.createObjectNode();
                out.put("resultType", "NOT_READY");
                out.put("nextResultUri", uriPrefix + token + "?rowFormat=" + format.name());
                return out.toString();
            }
            if (st != Status.FINISHED) {
                throw new SqlGatewayException(String.format(
                        "Can not fetch results from the %s in %s status.", id, st));
            }
            Result r = result;
            if (token == currentToken) {
                if (noMoreResults) return body("EOS", r, Collections.emptyList(), format, null);
                previous = new Page(Collections.emptyList());
                List<RowData> rows = carry.isEmpty() ? r.next() : carry;
                carry = new ArrayList<>();
                if (rows == null) {
                    noMoreResults = true;
                    return body("EOS", r, Collections.emptyList(), format, null);
                }
                Page page = new Page(rows);
                List<JsonNode> encoded = page.encoded(r, format);
                // Keep pages under PAGE_BYTES: what does not fit waits for the next token.
                int size = 0;
                int keep = 0;
                for (JsonNode n : encoded) {
                    size += n.toString().length();
                    if (keep > 0 && size > PAGE_BYTES) break;
                    keep++;
                }
                if (keep < rows.size()) {
                    carry = new ArrayList<>(rows.subList(keep, rows.size()));
                    page = new Page(new ArrayList<>(rows.subList(0, keep)));
                }
                currentToken++;
                previous = page;
                return body("PAYLOAD", r, page.encoded(r, format), format, uriPrefix + currentToken);
            }
            if (token == currentToken - 1 && token >= 0) {
                return body("PAYLOAD", r, previous.encoded(r, format), format, uriPrefix + currentToken);
            }
            String msg = currentToken == 0
                    ? "Expecting token to be 0, but found " + token + "."
                    : "Expecting token to be " + currentToken + " or " + (currentToken - 1) + ", but found " + token + ".";
            throw new SqlExecutionException(msg);
        }

        private String body(String type, Result r, List<JsonNode> data, RowFormat format, String next) {
            ObjectNode out = MAPPER.createObjectNode();
            out.put("resultType", type);
            out.put("isQueryResult", r.isQueryResult);
            if (r.jobId != null) out.put("jobID", r.jobId);
            out.put("resultKind", r.resultKind);
            ObjectNode results = out.putObject("results");
            ArrayNode columns = results.putArray("columns");
            for (Column c : r.schema.getColumns()) {
                ObjectNode col = columns.addObject();
                col.put("name", c.getName());
                col.set("logicalType", logicalType(c.getDataType().getLogicalType()));
                Optional<String> comment = c.getComment();
                if (comment.isPresent()) col.put("comment", comment.get());
                else col.putNull("comment");
            }
            results.put("rowFormat", format.name());
            ArrayNode rows = results.putArray("data");
            data.forEach(rows::add);
            if (next != null) out.put("nextResultUri", next + "?rowFormat=" + format.name());
            return out.toString();
        }
    }

    /** A page of rows, encoded lazily per row format (a client may re-fetch a token with another format). */
    static final class Page {
        final List<RowData> rows;
        private final Map<RowFormat, List<JsonNode>> encoded = new LinkedHashMap<>();

        Page(List<RowData> rows) {
            this.rows = rows;
        }

        List<JsonNode> encoded(Result r, RowFormat format) {
            return encoded.computeIfAbsent(format, f -> encode(r, f));
        }

        private List<JsonNode> encode(Result r, RowFormat format) {
            List<Column> columns = r.schema.getColumns();
            int n = columns.size();
            List<JsonNode> out = new ArrayList<>(rows.size());
            if (format == RowFormat.JSON) {
                RowData.FieldGetter[] getters = new RowData.FieldGetter[n];
                RowDataToJsonConverters.RowDataToJsonConverter[] converters =
                        new RowDataToJsonConverters.RowDataToJsonConverter[n];
                RowDataToJsonConverters factory = new RowDataToJsonConverters(
                        TimestampFormat.ISO_8601, JsonFormatOptions.MapNullKeyMode.LITERAL, "null", false);
                for (int i = 0; i < n; i++) {
                    LogicalType t = columns.get(i).getDataType().getLogicalType();
                    getters[i] = RowData.createFieldGetter(t, i);
                    converters[i] = factory.createConverter(t);
                }
                for (RowData row : rows) {
                    ObjectNode node = MAPPER.createObjectNode();
                    node.put("kind", row.getRowKind().name());
                    ArrayNode fields = node.putArray("fields");
                    for (int i = 0; i < n; i++) {
                        Object v = getters[i].getFieldOrNull(row);
                        fields.add(v == null ? NullNode.getInstance() : converters[i].convert(MAPPER, null, v));
                    }
                    out.add(node);
                }
            } else {
                for (RowData row : rows) {
                    ObjectNode node = MAPPER.createObjectNode();
                    node.put("kind", row.getRowKind().name());
                    ArrayNode fields = node.putArray("fields");
                    String[] text = r.toText == null ? null : r.toText.convert(row);
                    for (int i = 0; i < n; i++) {
                        if (row.isNullAt(i)) fields.addNull();
                        else if (text != null) fields.add(text[i]);
                        else fields.add(String.valueOf(RowData.createFieldGetter(
                                columns.get(i).getDataType().getLogicalType(), i).getFieldOrNull(row)));
                    }
                    out.add(node);
                }
            }
            return out;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /**
     * `logicalType` as flink-sql-gateway's LogicalTypeJsonSerializer writes it: type = the LogicalTypeRoot name and
     * nullable (NULL has only type); length for CHAR/VARCHAR/BINARY/VARBINARY; precision (+ scale) for DECIMAL,
     * TIME and the TIMESTAMPs; keyType/valueType for MAP; elementType for ARRAY/MULTISET; fields [{name, fieldType,
     * description?}] for ROW; precision/fractionalPrecision/resolution for INTERVALs; class/serializer for RAW.
     */
    static ObjectNode logicalType(LogicalType t) {
        ObjectNode n = MAPPER.createObjectNode();
        n.put("type", t.getTypeRoot().name());
        if (t instanceof NullType) return n;
        n.put("nullable", t.isNullable());
        switch (t.getTypeRoot()) {
            case CHAR: n.put("length", ((CharType) t).getLength()); break;
            case VARCHAR: n.put("length", ((VarCharType) t).getLength()); break;
            case BINARY: n.put("length", ((BinaryType) t).getLength()); break;
            case VARBINARY: n.put("length", ((VarBinaryType) t).getLength()); break;
            case DECIMAL:
                n.put("precision", ((DecimalType) t).getPrecision());
                n.put("scale", ((DecimalType) t).getScale());
                break;
            case TIME_WITHOUT_TIME_ZONE: n.put("precision", ((TimeType) t).getPrecision()); break;
            case TIMESTAMP_WITHOUT_TIME_ZONE: n.put("precision", ((TimestampType) t).getPrecision()); break;
            case TIMESTAMP_WITH_TIME_ZONE: n.put("precision", ((ZonedTimestampType) t).getPrecision()); break;
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE: n.put("precision", ((LocalZonedTimestampType) t).getPrecision()); break;
            case MAP:
                n.set("keyType", logicalType(((MapType) t).getKeyType()));
                n.set("valueType", logicalType(((MapType) t).getValueType()));
                break;
            case ARRAY: n.set("elementType", logicalType(((ArrayType) t).getElementType())); break;
            case MULTISET: n.set("elementType", logicalType(((MultisetType) t).getElementType())); break;
            case ROW: {
                ArrayNode fields = n.putArray("fields");
                for (RowType.RowField f : ((RowType) t).getFields()) {
                    ObjectNode field = fields.addObject();
                    field.put("name", f.getName());
                    field.set("fieldType", logicalType(f.getType()));
                    f.getDescription().ifPresent(d -> field.put("description", d));
                }
                break;
            }
            case INTERVAL_YEAR_MONTH:
                n.put("precision", ((YearMonthIntervalType) t).getYearPrecision());
                n.put("resolution", ((YearMonthIntervalType) t).getResolution().toString());
                break;
            case INTERVAL_DAY_TIME:
                n.put("precision", ((DayTimeIntervalType) t).getDayPrecision());
                n.put("fractionalPrecision", ((DayTimeIntervalType) t).getFractionalPrecision());
                n.put("resolution", ((DayTimeIntervalType) t).getResolution().toString());
                break;
            case RAW:
                if (t instanceof RawType) {
                    n.put("class", ((RawType<?>) t).getOriginatingClass().getName());
                    n.put("serializer", ((RawType<?>) t).getSerializerString());
                    break;
                }
                throw new UnsupportedOperationException(String.format(
                        "Unable to serialize logical type '%s'. Please check the documentation for supported types.",
                        t.asSummaryString()));
            default:
                break;
        }
        return n;
    }
}
