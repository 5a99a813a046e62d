package flowreg.neo4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.io.ByteUnit;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * A real Neo4j Community DBMS, embedded, serving Bolt only — for flowreg development and CI.
 *
 * <p>Usage:
 *
 * <pre>
 *   java [JVM flags] -cp 'target/lib/*:target/classes' flowreg.neo4j.Launcher \
 *       --data DIR [--port N] [--pagecache SIZE] [--auth] [--exit-on-stdin-eof]
 * </pre>
 *
 * <ul>
 *   <li>{@code --data DIR} (env {@code NEO4J_DATA_DIR}): Neo4j home; stores go to DIR/data, logs
 *       (debug.log) to DIR/logs. Created when missing. Required.
 *   <li>{@code --port N} (env {@code NEO4J_BOLT_PORT}, default 7687): Bolt port on 127.0.0.1. 0
 *       lets the OS choose a free port; the ready line then carries the real one.
 *   <li>{@code --pagecache SIZE} (env {@code NEO4J_PAGECACHE}, default 512m): page cache size. The
 *       heap is sized by the caller with -Xms/-Xmx (neo4j_server.py uses 1g).
 *   <li>{@code --auth} (or env {@code NEO4J_AUTH_ENABLED=true}): enable authentication. The
 *       password of user {@code neo4j} is then set from env {@code NEO4J_PASSWORD} (at least 8
 *       characters; passed by env so it never shows up in a process list).
 *   <li>{@code --exit-on-stdin-eof}: shut down when standard input reaches EOF, so a server whose
 *       parent process died (and with it the pipe) never lingers.
 * </ul>
 *
 * <p>Security: by default AUTHENTICATION IS DISABLED. This is acceptable only because Bolt is bound
 * to the loopback address 127.0.0.1 and nothing else (HTTP and HTTPS connectors are off, no
 * plugins, no usage reporting). Any client on this machine can then connect with any credentials,
 * e.g. the Python driver's {@code auth=("neo4j", "anything")}. Use {@code --auth} when that is not
 * acceptable.
 *
 * <p>Once the default database {@code neo4j} is available and Bolt has answered a real handshake it
 * prints one line {@code NEO4J READY bolt://127.0.0.1:PORT} on standard output. On SIGTERM/SIGINT
 * a shutdown hook calls {@link DatabaseManagementService#shutdown()} and prints {@code NEO4J
 * STOPPED}. Startup failure prints {@code NEO4J FAILED: ...} and exits with status 1.
 */
public final class Launcher {

    static final String HOST = "127.0.0.1"; // loopback only, on purpose: see class comment
    static final int DEFAULT_PORT = 7687;
    static final String DEFAULT_PAGECACHE = "512m";
    static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(3);

    private Launcher() {}

    static final class Options {
        Path dataDir;
        int port = DEFAULT_PORT;
        String pagecache = DEFAULT_PAGECACHE;
        boolean auth;
        boolean exitOnStdinEof;
    }

    public static void main(String[] args) {
        final PrintStream out = System.out;
        final Options opts;
        try {
            opts = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(
                    "usage: Launcher --data DIR [--port N] [--pagecache SIZE] [--auth]"
                            + " [--exit-on-stdin-eof]");
            System.exit(2);
            return;
        }

        final AtomicReference<DatabaseManagementService> serviceRef = new AtomicReference<>();
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    DatabaseManagementService s = serviceRef.getAndSet(null);
                                    if (s != null) {
                                        out.println("NEO4J STOPPING");
                                        out.flush();
                                        try {
                                            s.shutdown();
                                            out.println("NEO4J STOPPED");
                                        } catch (Throwable t) {
                                            out.println("NEO4J SHUTDOWN ERROR: " + t);
                                            t.printStackTrace(out);
                                        }
                                        out.flush();
                                    }
                                    stopped.countDown();
                                },
                                "flowreg-neo4j-shutdown"));

        if (opts.exitOnStdinEof) {
            Thread watcher =
                    new Thread(
                            () -> {
                                try {
                                    InputStream in = System.in;
                                    byte[] buf = new byte[256];
                                    while (in.read(buf) >= 0) {
                                        // ignore input; only EOF matters
                                    }
                                } catch (IOException ignored) {
                                    // treat as EOF
                                }
                                out.println("NEO4J stdin closed: shutting down");
                                out.flush();
                                System.exit(0);
                            },
                            "flowreg-neo4j-stdin-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        try {
            long t0 = System.nanoTime();
            DatabaseManagementService service = startDbms(opts, out);
            serviceRef.set(service);

            GraphDatabaseService db = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            if (!db.isAvailable(STARTUP_TIMEOUT.toMillis())) {
                throw new IllegalStateException(
                        "database '" + GraphDatabaseSettings.DEFAULT_DATABASE_NAME
                                + "' did not become available");
            }
            db.executeTransactionally("RETURN 1");

            if (opts.auth) {
                setInitialPassword(service);
            }

            String version =
                    db.executeTransactionally(
                            "CALL dbms.components() YIELD name, versions, edition"
                                    + " RETURN versions[0] + ' ' + edition AS v",
                            Map.of(),
                            r -> r.hasNext() ? String.valueOf(r.next().get("v")) : "unknown");

            int port = boltPort(db, opts.port);
            awaitBoltHandshake(HOST, port, STARTUP_TIMEOUT);

            long ms = (System.nanoTime() - t0) / 1_000_000;
            out.println("NEO4J VERSION " + version);
            out.println("NEO4J READY bolt://" + HOST + ":" + port + " (started in " + ms + " ms"
                    + ", auth " + (opts.auth ? "enabled" : "disabled") + ")");
            out.flush();
        } catch (Throwable t) {
            out.println("NEO4J FAILED: " + t);
            t.printStackTrace(out);
            out.flush();
            System.exit(1); // runs the shutdown hook, which stops a half-started DBMS
            return;
        }

        try {
            stopped.await(); // until the shutdown hook has run (SIGTERM, SIGINT, stdin EOF)
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static Options parse(String[] args) {
        Options o = new Options();
        String data = System.getenv("NEO4J_DATA_DIR");
        String port = System.getenv("NEO4J_BOLT_PORT");
        String pc = System.getenv("NEO4J_PAGECACHE");
        String auth = System.getenv("NEO4J_AUTH_ENABLED");
        if (pc != null && !pc.isBlank()) {
            o.pagecache = pc.trim();
        }
        if (auth != null && auth.trim().toLowerCase(Locale.ROOT).matches("1|true|yes|on")) {
            o.auth = true;
        }
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--data":
                    data = value(args, ++i, a);
                    break;
                case "--port":
                    port = value(args, ++i, a);
                    break;
                case "--pagecache":
                    o.pagecache = value(args, ++i, a);
                    break;
                case "--auth":
                    o.auth = true;
                    break;
                case "--no-auth":
                    o.auth = false;
                    break;
                case "--exit-on-stdin-eof":
                    o.exitOnStdinEof = true;
                    break;
                default:
                    throw new IllegalArgumentException("unknown argument: " + a);
            }
        }
        if (data == null || data.isBlank()) {
            throw new IllegalArgumentException("--data DIR (or NEO4J_DATA_DIR) is required");
        }
        o.dataDir = Path.of(data).toAbsolutePath().normalize();
        if (port != null && !port.isBlank()) {
            try {
                o.port = Integer.parseInt(port.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("bad port: " + port);
            }
            if (o.port < 0 || o.port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
        }
        try {
            ByteUnit.parse(o.pagecache);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("bad page cache size: " + o.pagecache);
        }
        return o;
    }

    private static String value(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    static DatabaseManagementService startDbms(Options o, OutputStream userLog) throws IOException {
        Files.createDirectories(o.dataDir);
        return new DatabaseManagementServiceBuilder(o.dataDir)
                // Neo4j's user-facing log (startup, warnings) goes to stdout; debug.log to DIR/logs.
                .setUserLogProvider(new Log4jLogProvider(userLog, Level.INFO))
                // Bolt on loopback only; nothing else listens.
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress(HOST, o.port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress(HOST, o.port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                // Auth off by default: safe only because Bolt is bound to 127.0.0.1 (see above).
                .setConfig(GraphDatabaseSettings.auth_enabled, o.auth)
                // No phoning home (dbms.usage_report.enabled defaults to true).
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // Memory for a 2-core / 24 GB machine shared with the test suite.
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.parse(o.pagecache))
                // Small, non-preallocated transaction logs: dev/CI data dirs are throwaway.
                .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(16))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "2 files")
                // Netty's default 5 s "quiet period" (paid twice) made every stop take >10 s.
                // Internal setting, checked against the pinned 5.26.x.
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .build();
    }

    /** Sets the password of user neo4j (and clears "change required") from NEO4J_PASSWORD. */
    static void setInitialPassword(DatabaseManagementService service) {
        String pw = System.getenv("NEO4J_PASSWORD");
        if (pw == null || pw.length() < 8) {
            throw new IllegalStateException(
                    "auth enabled: set NEO4J_PASSWORD (at least 8 characters) for user neo4j");
        }
        GraphDatabaseService system = service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", pw));
        } catch (RuntimeException e) {
            // Data dir from an earlier run with the same password: nothing to change.
            String msg = String.valueOf(e.getMessage()) + " " + e.getCause();
            if (!msg.toLowerCase(Locale.ROOT).contains("cannot be the same")) {
                throw e;
            }
        }
    }

    /** The actual Bolt port (differs from the requested one when that was 0). */
    static int boltPort(GraphDatabaseService db, int requested) {
        if (db instanceof GraphDatabaseAPI api) {
            try {
                HostnamePort hp =
                        api.getDependencyResolver()
                                .resolveDependency(ConnectorPortRegister.class)
                                .getLocalAddress(ConnectorType.BOLT);
                if (hp != null && hp.getPort() > 0) {
                    return hp.getPort();
                }
            } catch (RuntimeException e) {
                if (requested == 0) {
                    throw new IllegalStateException("cannot find the Bolt port chosen by the OS", e);
                }
            }
        }
        if (requested == 0) {
            throw new IllegalStateException("cannot find the Bolt port chosen by the OS");
        }
        return requested;
    }

    /**
     * Waits until Bolt answers a real handshake: magic 0x6060B017 then four version proposals
     * (5.0-5.8, 4.1-4.4); a non-zero 4-byte reply means a Bolt version was agreed.
     */
    static void awaitBoltHandshake(String host, int port, Duration timeout) throws Exception {
        byte[] hello = {
            0x60, 0x60, (byte) 0xB0, 0x17,
            0x00, 0x08, 0x08, 0x05, // 5.8 down to 5.0
            0x00, 0x03, 0x04, 0x04, // 4.4 down to 4.1
            0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        };
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), 2000);
                s.setSoTimeout(5000);
                s.getOutputStream().write(hello);
                s.getOutputStream().flush();
                byte[] reply = s.getInputStream().readNBytes(4);
                if (reply.length == 4 && (reply[0] | reply[1] | reply[2] | reply[3]) != 0) {
                    return;
                }
                last = new IOException("Bolt handshake refused: " + java.util.Arrays.toString(reply));
            } catch (IOException e) {
                last = e;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("Bolt did not accept connections on " + host + ":" + port, last);
    }
}
