package siotest;

import com.corundumstudio.socketio.AckCallback;
import com.corundumstudio.socketio.AckRequest;
import com.corundumstudio.socketio.AuthTokenResult;
import com.corundumstudio.socketio.AuthorizationResult;
import com.corundumstudio.socketio.BroadcastOperations;
import com.corundumstudio.socketio.Configuration;
import com.corundumstudio.socketio.MultiTypeAckCallback;
import com.corundumstudio.socketio.MultiTypeArgs;
import com.corundumstudio.socketio.SocketIOClient;
import com.corundumstudio.socketio.SocketIONamespace;
import com.corundumstudio.socketio.SocketIOServer;
import com.corundumstudio.socketio.transport.NamespaceClient;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Fixture application (conformance/FIXTURE.md) on netty-socketio.
 *
 * <p>What netty-socketio's API cannot express is left out, and the target's registry entry says so:
 * there is no bare Engine.IO endpoint (no echo on /engine.io/), no pattern-matched (dynamic)
 * namespaces, no volatile emit, no Engine.IO initialPacket, no connection-state recovery. An
 * event's arguments reach the application already decoded into the classes its listener declares;
 * the fixture declares Object for every position, so a binary attachment reaches it as the base64
 * text that netty-socketio substitutes for the placeholder, and is echoed as that text.
 */
public final class Fixture {
    /** Listeners read at most this many arguments of an event (netty-socketio reads one per declared class). */
    private static final int MAX_ARGS = 16;
    private static final Class<?>[] ANY_ARGS = new Class<?>[MAX_ARGS];
    static {
        Arrays.fill(ANY_ARGS, Object.class);
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<Object> RECORDS = new ArrayList<>();
    /** Rooms per (namespace, client): netty-socketio leaves the rooms before its disconnect listeners run. */
    private static final Map<String, Set<String>> ROOMS_SEEN = new ConcurrentHashMap<>();

    /** The fixture-info answer (FIXTURE.md section 2), set once in main. */
    private static Map<String, Object> info = Map.of();

    private Fixture() {}

    // ---------------------------------------------------------------------------- fixture-info
    /** The version Maven recorded in a jar on the class path (META-INF/maven/.../pom.properties). */
    static String mavenVersion(String group, String artifact) {
        String path = "/META-INF/maven/" + group + "/" + artifact + "/pom.properties";
        try (InputStream in = Fixture.class.getResourceAsStream(path)) {
            if (in == null) {
                return null;
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            return null;
        }
    }

    /** The parts this fixture offers (see the class comment) and the versions it really loads. */
    static Map<String, Object> fixtureInfo(int upgradeTimeoutMs) {
        Map<String, Object> packages = new LinkedHashMap<>();
        String version = mavenVersion("com.corundumstudio.socketio", "netty-socketio");
        packages.put("netty-socketio", version);
        io.netty.util.Version.identify().forEach((artifact, v) -> {
            if (artifact.equals("netty-codec-http") || artifact.equals("netty-transport")) {
                packages.put(artifact, v.artifactVersion());
            }
        });
        packages.put("jackson-databind", mavenVersion("com.fasterxml.jackson.core", "jackson-databind"));
        packages.put("java", System.getProperty("java.version"));
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("name", "netty-socketio");
        out.put("version", version);
        out.put("parts", List.of("extended", "close-connection", "auth", "connect-error-data", "log", "refuse",
                "app-error"));
        out.put("packages", packages);
        out.put("settings", Map.of("upgradeTimeoutMs", upgradeTimeoutMs, "eio3", true));
        return out;
    }

    // ---------------------------------------------------------------------------- settings
    /** A flag wins over the environment; a flag without a value means "on". */
    static String setting(String[] args, String flag, String env, String fallback) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(flag)) {
                return i + 1 < args.length && !args[i + 1].startsWith("--") ? args[i + 1] : "1";
            }
        }
        String v = System.getenv(env);
        return v == null || v.isEmpty() ? fallback : v;
    }

    static int number(String[] args, String flag, String env, String fallback) {
        return Integer.parseInt(setting(args, flag, env, fallback));
    }

    // ---------------------------------------------------------------------------- disconnect log
    static synchronized void record(Map<String, Object> entry) {
        RECORDS.add(entry);
        try {
            System.out.println(JSON.writeValueAsString(entry));
        } catch (IOException e) {
            System.out.println("{\"event\":\"error\",\"message\":\"unprintable record\"}");
        }
        System.out.flush();
    }

    static synchronized List<Object> drainRecords() {
        List<Object> out = new ArrayList<>(RECORDS);
        RECORDS.clear();
        return out;
    }

    static Map<String, Object> entry(String event, SocketIOClient c, Object... keyValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", event);
        m.put("nsp", nspName(c.getNamespace()));
        m.put("sid", c.getSessionId().toString());
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            m.put((String) keyValues[i], keyValues[i + 1]);
        }
        return m;
    }

    // ---------------------------------------------------------------------------- helpers
    /** netty-socketio names the main namespace "" where Socket.IO names it "/". */
    static String nspName(SocketIONamespace ns) {
        return ns.getName().isEmpty() ? "/" : ns.getName();
    }

    static String roomsKey(SocketIOClient c) {
        return nspName(c.getNamespace()) + " " + c.getSessionId();
    }

    static List<Object> rooms(SocketIOClient c) {
        Set<String> now = c.getAllRooms();
        ROOMS_SEEN.put(roomsKey(c), new HashSet<>(now));
        return new ArrayList<>(now);
    }

    static List<String> asRooms(Object v) {
        List<String> out = new ArrayList<>();
        if (v instanceof String s) {
            out.add(s);
        } else if (v instanceof List<?> l) {
            for (Object x : l) {
                if (x instanceof String s) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    static Object[] rest(List<Object> args, int from) {
        return from >= args.size() ? new Object[0] : args.subList(from, args.size()).toArray();
    }

    /** Whole seconds, at least one: netty-socketio's ack timeouts are in seconds. */
    static int seconds(Object ms) {
        long millis = ms instanceof Number n ? n.longValue() : 0;
        return (int) Math.max(1, (millis + 999) / 1000);
    }

    static void send(SocketIOClient c, String event, Object... args) {
        c.sendEvent(event, args);
    }

    // ---------------------------------------------------------------------------- Socket.IO handlers
    interface Handler {
        void handle(SocketIOClient client, List<Object> args, AckRequest ack) throws Exception;
    }

    static void on(SocketIONamespace ns, String event, Handler h) {
        ns.addMultiTypeEventListener(event, (client, data, ack) -> h.handle(client, data.getArgs(), ack), ANY_ARGS);
    }

    static void attach(SocketIONamespace ns) {
        ns.addConnectListener(c -> {
            // The CONNECT reply is already written; `auth` must be the first event after it.
            Object auth = c.getHandshakeData().getAuthToken();
            send(c, "auth", auth == null ? new LinkedHashMap<>() : auth);
            rooms(c);
        });
        ns.addDisconnectListener(c -> {
            // The rooms are already left here: the fixture reports the ones it saw last.
            Set<String> seen = ROOMS_SEEN.remove(roomsKey(c));
            record(entry("disconnecting", c, "reason", "", "rooms", seen == null ? List.of() : new ArrayList<>(seen)));
            record(entry("disconnect", c, "reason", "", "rooms", List.of()));
        });
        on(ns, "message", (c, a, ack) -> send(c, "message-back", a.toArray()));
        on(ns, "message-with-ack", (c, a, ack) -> {
            if (ack.isAckRequested()) {
                ack.sendAckData(a);
            }
        });
        // FIXTURE.md's ack(rooms) and ack(records) are one argument, an array. sendAckData(List) would
        // send the list's elements as the ack's arguments; as an Object the list is the one argument.
        on(ns, "join", (c, a, ack) -> {
            if (!a.isEmpty() && a.get(0) instanceof String room) {
                c.joinRoom(room);
            }
            ack.sendAckData((Object) rooms(c));
        });
        on(ns, "leave", (c, a, ack) -> {
            if (!a.isEmpty() && a.get(0) instanceof String room) {
                c.leaveRoom(room);
            }
            ack.sendAckData((Object) rooms(c));
        });
        on(ns, "rooms", (c, a, ack) -> ack.sendAckData((Object) rooms(c)));
        on(ns, "fixture-info", (c, a, ack) -> ack.sendAckData(info));
        on(ns, "to", (c, a, ack) -> {
            if (!a.isEmpty()) {
                roomOps(ns, asRooms(a.get(0))).sendEvent("to", c, rest(a, 1));
            }
        });
        on(ns, "to-many", (c, a, ack) -> {
            if (!a.isEmpty()) {
                roomOps(ns, asRooms(a.get(0))).sendEvent("to", c, rest(a, 1));
            }
        });
        on(ns, "broadcast", (c, a, ack) -> ns.getBroadcastOperations().sendEvent("bc", c, a.toArray()));
        on(ns, "nsp-emit", (c, a, ack) -> ns.getBroadcastOperations().sendEvent("nsp", a.toArray()));
        on(ns, "except", (c, a, ack) -> {
            if (!a.isEmpty()) {
                Set<UUID> skip = members(ns, asRooms(a.get(0)));
                ns.getBroadcastOperations().sendEvent("except", x -> skip.contains(x.getSessionId()), rest(a, 1));
            }
        });
        on(ns, "to-except", (c, a, ack) -> {
            if (a.size() > 1) {
                Set<UUID> skip = members(ns, asRooms(a.get(1)));
                roomOps(ns, asRooms(a.get(0))).sendEvent("except", x -> skip.contains(x.getSessionId()), rest(a, 2));
            }
        });
        on(ns, "server-ack", (c, a, ack) -> c.sendEvent("need-ack", new MultiTypeAckCallback(ANY_ARGS) {
            @Override
            public void onSuccess(MultiTypeArgs reply) {
                send(c, "ack-result", reply.getArgs().toArray());
            }
        }, a.toArray()));
        on(ns, "server-ack-timeout", (c, a, ack) -> {
            if (a.isEmpty()) {
                return;
            }
            // netty-socketio's ack timeouts are whole seconds; a timed ack hands over its first argument only.
            c.sendEvent("need-ack", new AckCallback<Object>(Object.class, seconds(a.get(0))) {
                @Override
                public void onSuccess(Object reply) {
                    send(c, "ack-result", reply);
                }

                @Override
                public void onTimeout() {
                    send(c, "ack-timeout");
                }
            }, rest(a, 1));
        });
        on(ns, "bc-ack", (c, a, ack) -> broadcastWithAck(ns, c, a));
        on(ns, "double-ack", (c, a, ack) -> {
            ack.sendAckData(1);
            ack.sendAckData(2);
        });
        on(ns, "server-bin", (c, a, ack) -> {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("x", List.of((Object) new byte[] {3}));
            send(c, "bin", new byte[] {1, 2}, x);
        });
        on(ns, "disconnect-me", (c, a, ack) -> {
            if (!a.isEmpty() && Boolean.TRUE.equals(a.get(0)) && c instanceof NamespaceClient nc) {
                nc.getBaseClient().disconnect(); // every namespace and the connection
            } else {
                c.disconnect();
            }
        });
        on(ns, "log", (c, a, ack) -> ack.sendAckData((Object) drainRecords()));
        on(ns, "app-error", (c, a, ack) -> {
            // FIXTURE.md section 3: the application fails on this event (the listener throws).
            record(entry("error", c, "message", "app-error"));
            throw new IllegalStateException("app-error");
        });
    }

    static BroadcastOperations roomOps(SocketIONamespace ns, List<String> rooms) {
        return ns.getRoomOperations(rooms.toArray(new String[0]));
    }

    static Set<UUID> members(SocketIONamespace ns, List<String> rooms) {
        Set<UUID> out = new HashSet<>();
        for (SocketIOClient x : roomOps(ns, rooms).getClients()) {
            out.add(x.getSessionId());
        }
        return out;
    }

    /**
     * bc-ack: netty-socketio's broadcast with ack carries one data argument and a timeout in whole
     * seconds, so the fixture sends `need-ack` to each socket of the namespace with its own ack and
     * answers when all have answered or the deadline (milliseconds) has passed.
     */
    static void broadcastWithAck(SocketIONamespace ns, SocketIOClient sender, List<Object> a) {
        if (a.isEmpty()) {
            return;
        }
        long ms = a.get(0) instanceof Number n ? n.longValue() : 0;
        Collection<SocketIOClient> all = ns.getAllClients();
        List<Object> responses = java.util.Collections.synchronizedList(new ArrayList<>());
        CountDownLatch pending = new CountDownLatch(all.size());
        AtomicBoolean done = new AtomicBoolean();
        for (SocketIOClient x : all) {
            x.sendEvent("need-ack", new MultiTypeAckCallback(ANY_ARGS) {
                @Override
                public void onSuccess(MultiTypeArgs reply) {
                    responses.add(reply.isEmpty() ? null : reply.first());
                    pending.countDown();
                }
            }, rest(a, 1));
        }
        Thread waiter = new Thread(() -> {
            boolean allAnswered;
            try {
                allAnswered = pending.await(ms, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (done.compareAndSet(false, true)) {
                send(sender, "bc-ack-result", !allAnswered, new ArrayList<>(responses));
            }
        }, "bc-ack");
        waiter.setDaemon(true);
        waiter.start();
    }

    // ---------------------------------------------------------------------------- main
    /** netty-socketio binds the port it is given; for port 0 the fixture picks a free one first. */
    static int freePort(String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress(host, 0));
            return s.getLocalPort();
        }
    }

    public static void main(String[] args) throws Exception {
        String host = setting(args, "--host", "HOST", "127.0.0.1");
        int port = number(args, "--port", "PORT", "0");
        int maxPayload = number(args, "--max-payload", "MAX_PAYLOAD", "1000000");

        Configuration config = new Configuration();
        config.setHostname(host);
        config.setPort(port == 0 ? freePort(host) : port);
        // Milliseconds, whatever the parameter names say.
        config.setPingInterval(number(args, "--ping-interval", "PING_INTERVAL_MS", "300"));
        config.setPingTimeout(number(args, "--ping-timeout", "PING_TIMEOUT_MS", "200"));
        int upgradeTimeoutMs = number(args, "--upgrade-timeout", "UPGRADE_TIMEOUT_MS", "10000");
        config.setUpgradeTimeout(upgradeTimeoutMs);
        info = fixtureInfo(upgradeTimeoutMs);
        // There is no single maxPayload (and none is advertised): both limits get the fixture's value.
        config.setMaxHttpContentLength(maxPayload);
        config.setMaxFramePayloadLength(maxPayload);
        config.setOrigin("*");
        // FIXTURE.md section 3: a handshake whose query has `refuse=<reason>` is turned down by the
        // application (the listener answers yes or no; the reason cannot be passed on).
        config.setAuthorizationListener(data -> data.getSingleUrlParam("refuse") == null
                ? AuthorizationResult.SUCCESSFUL_AUTHORIZATION : AuthorizationResult.FAILED_AUTHORIZATION);

        SocketIOServer server = new SocketIOServer(config);
        attach(server.getNamespace(""));
        attach(server.addNamespace("/custom"));
        SocketIONamespace authNs = server.addNamespace("/auth");
        authNs.addAuthTokenListener((token, client) -> {
            if (token instanceof Map<?, ?> m && "ok".equals(m.get("token"))) {
                return AuthTokenResult.AuthTokenResultSuccess;
            }
            Map<String, Object> refusal = new LinkedHashMap<>();
            refusal.put("message", "not authorized");
            if (token instanceof Map<?, ?> m && m.containsKey("withData")) {
                refusal.put("data", Map.of("code", 42));
            }
            return new AuthTokenResult(false, refusal);
        });
        attach(authNs);

        server.startAsync().syncUninterruptibly();
        System.out.println("READY " + config.getPort());
        System.out.flush();

        // SIGTERM: the server's own shutdown, as an application would call it (SIO-DC-06).
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }));
        stopped.await();
    }
}
