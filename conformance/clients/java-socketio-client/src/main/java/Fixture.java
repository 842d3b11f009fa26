// Client fixture (conformance/CLIENT-FIXTURE.md) for io.socket:socket.io-client (Java).
// The scripted server holds the scenario: this program connects as configured, obeys do-* events,
// answers every server ack by echoing the arguments, and prints one JSON line per thing it saw.

import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Manager;
import io.socket.client.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

public final class Fixture {
  private static final String[] FEATURES = {
    "multiplex", "dynamic-join", "binary", "ack-answer", "buffer", "ws-only", "polling-only", "upgrade", "leave",
    "attempts", "timeout", "restart"
  };

  private final JSONObject config;
  private final Manager manager;
  private final Map<String, Socket> sockets = new ConcurrentHashMap<>();
  private volatile boolean leaving;

  private Fixture(JSONObject config, Manager manager) {
    this.config = config;
    this.manager = manager;
  }

  static synchronized void say(JSONObject line) {
    System.out.println(line.toString());
    System.out.flush();
  }

  static JSONObject line(String ev) {
    JSONObject o = new JSONObject();
    put(o, "ev", ev);
    return o;
  }

  static void put(JSONObject o, String key, Object value) {
    try {
      o.put(key, value == null ? JSONObject.NULL : value);
    } catch (JSONException e) {
      throw new IllegalStateException(e);
    }
  }

  // {"$bin": base64} stands for bytes, both ways.
  static Object toNative(Object v) throws JSONException {
    if (v instanceof JSONArray) {
      JSONArray a = (JSONArray) v;
      JSONArray r = new JSONArray();
      for (int i = 0; i < a.length(); i++) r.put(toNative(a.get(i)));
      return r;
    }
    if (v instanceof JSONObject) {
      JSONObject o = (JSONObject) v;
      if (o.length() == 1 && o.has("$bin")) return Base64.getDecoder().decode(o.getString("$bin"));
      JSONObject r = new JSONObject();
      for (Iterator<?> it = o.keys(); it.hasNext(); ) {
        String k = (String) it.next();
        r.put(k, toNative(o.get(k)));
      }
      return r;
    }
    return v;
  }

  static Object toWire(Object v) throws JSONException {
    if (v instanceof byte[]) {
      JSONObject o = new JSONObject();
      o.put("$bin", Base64.getEncoder().encodeToString((byte[]) v));
      return o;
    }
    if (v instanceof JSONArray || v instanceof JSONObject) return toNative2Wire(v);
    return v == null ? JSONObject.NULL : v;
  }

  static Object toNative2Wire(Object v) throws JSONException {
    if (v instanceof JSONArray) {
      JSONArray a = (JSONArray) v;
      JSONArray r = new JSONArray();
      for (int i = 0; i < a.length(); i++) r.put(toWire(a.get(i)));
      return r;
    }
    JSONObject o = (JSONObject) v;
    JSONObject r = new JSONObject();
    for (Iterator<?> it = o.keys(); it.hasNext(); ) {
      String k = (String) it.next();
      r.put(k, toWire(o.get(k)));
    }
    return r;
  }

  static JSONArray wireArgs(Object[] args) throws JSONException {
    JSONArray r = new JSONArray();
    for (Object a : args) r.put(toWire(a));
    return r;
  }

  void perform(JSONObject a, String where) {
    String kind = a.optString("do");
    String nsp = a.optString("nsp", "/");
    if (nsp.isEmpty()) nsp = "/";
    try {
      if (kind.equals("emit") || kind.equals("emit-ack")) {
        Socket s = sockets.get(nsp);
        if (s == null) {
          JSONObject l = line("error");
          put(l, "message", "not joined: " + nsp);
          say(l);
          return;
        }
        if (a.optBoolean("volatile")) {
          JSONObject l = line("unsupported");
          put(l, "command", "volatile");
          say(l);
          return;
        }
        boolean counted = a.has("count");
        int count = counted ? a.getInt("count") : 1;
        for (int i = 0; i < count; i++) {
          JSONArray args = a.has("args") ? (JSONArray) toNative(a.getJSONArray("args")) : new JSONArray();
          List<Object> list = new ArrayList<>();
          for (int k = 0; k < args.length(); k++) list.add(args.get(k));
          if (counted) list.add(i);
          if (kind.equals("emit-ack")) {
            final Object tag = a.opt("tag");
            final String ns = nsp;
            list.add((Ack) res -> {
              JSONObject l = line("ack");
              put(l, "nsp", ns);
              put(l, "tag", tag);
              try {
                put(l, "args", wireArgs(res));
              } catch (JSONException e) {
                put(l, "args", e.toString());
              }
              say(l);
            });
          }
          s.emit(a.getString("event"), list.toArray());
        }
      } else if (kind.equals("join")) {
        join(nsp, a.optJSONObject("auth"));
      } else if (kind.equals("leave")) {
        Socket s = sockets.get(nsp);
        if (s != null) s.disconnect();
      } else if (kind.equals("restart")) {
        // A new client from the same configuration, as at start; this one leaves for good.
        leaving = true;
        for (Socket s : sockets.values()) s.disconnect();
        open(config);
      } else if (kind.equals("disconnect")) {
        leaving = true;
        for (Socket s : sockets.values()) s.disconnect();
        // Let the close packets leave before the process ends.
        new Thread(() -> {
          try {
            Thread.sleep(300);
          } catch (InterruptedException ignored) {
          }
          System.exit(0);
        }).start();
      } else {
        JSONObject l = line("unsupported");
        put(l, "command", kind);
        put(l, "where", where);
        say(l);
      }
    } catch (Exception e) {
      JSONObject l = line("error");
      put(l, "message", e.toString());
      put(l, "command", kind);
      say(l);
    }
  }

  void join(String nsp, JSONObject auth) throws JSONException {
    IO.Options opts = new IO.Options();
    if (auth != null) {
      Map<String, String> map = new HashMap<>();
      for (Iterator<?> it = auth.keys(); it.hasNext(); ) {
        String k = (String) it.next();
        map.put(k, String.valueOf(auth.get(k)));
      }
      opts.auth = map;
    }
    Socket s = manager.socket(nsp, opts);
    sockets.put(nsp, s);
    s.on(Socket.EVENT_CONNECT, args -> {
      JSONObject l = line("connect");
      put(l, "nsp", nsp);
      put(l, "id", s.id());
      say(l);
      forEach(config.optJSONArray("on_connect"), "nsp", nsp, "on_connect");
    });
    s.on(Socket.EVENT_CONNECT_ERROR, args -> {
      JSONObject l = line("connect_error");
      put(l, "nsp", nsp);
      Object err = args.length > 0 ? args[0] : null;
      if (err instanceof JSONObject) {
        put(l, "message", ((JSONObject) err).opt("message"));
        put(l, "data", ((JSONObject) err).opt("data"));
      } else {
        put(l, "message", err == null ? null : String.valueOf(err));
        put(l, "data", null);
      }
      say(l);
    });
    s.on(Socket.EVENT_DISCONNECT, args -> {
      JSONObject l = line("disconnect");
      put(l, "nsp", nsp);
      put(l, "reason", args.length > 0 ? String.valueOf(args[0]) : null);
      say(l);
      if (!leaving) forEach(config.optJSONArray("on_disconnect"), "on", nsp, "on_disconnect");
    });
    s.onAnyIncoming(args -> {
      if (args.length == 0) return;
      Object name = args[0];
      Ack ack = null;
      int end = args.length;
      if (end > 1 && args[end - 1] instanceof Ack) {
        ack = (Ack) args[end - 1];
        end--;
      }
      Object[] rest = new Object[end - 1];
      System.arraycopy(args, 1, rest, 0, end - 1);
      JSONObject l = line("event");
      put(l, "nsp", nsp);
      put(l, "name", name);
      try {
        put(l, "args", wireArgs(rest));
      } catch (JSONException e) {
        put(l, "args", e.toString());
      }
      put(l, "ack", ack != null);
      say(l);
      if (ack != null) ack.call(rest);
      if (name instanceof String && ((String) name).startsWith("do-")) {
        JSONObject cmd = rest.length > 0 && rest[0] instanceof JSONObject ? (JSONObject) rest[0] : new JSONObject();
        put(cmd, "do", ((String) name).substring(3));
        new Thread(() -> perform(cmd, "command")).start();
      }
    });
    s.connect();
  }

  void forEach(JSONArray actions, String key, String nsp, String where) {
    if (actions == null) return;
    for (int i = 0; i < actions.length(); i++) {
      JSONObject a = actions.optJSONObject(i);
      if (a != null && a.optString(key, "/").equals(nsp)) perform(a, where);
    }
  }

  /** The version of io.socket:socket.io-client on the class path, from the Maven properties its jar carries
   * (another version is built from this source by `CLIENT=java@VERSION`). */
  static String clientVersion() {
    try (java.io.InputStream in = IO.class.getResourceAsStream("/META-INF/maven/io.socket/socket.io-client/pom.properties")) {
      java.util.Properties p = new java.util.Properties();
      if (in != null) p.load(in);
      return p.getProperty("version", "(version unknown)");
    } catch (java.io.IOException e) {
      return "(version unknown)";
    }
  }

  public static void main(String[] argv) throws Exception {
    if (argv.length > 0 && argv[0].equals("--capabilities")) {
      JSONObject o = new JSONObject();
      o.put("agent", "io.socket:socket.io-client " + clientVersion() + " (Java " + System.getProperty("java.version") + ")");
      o.put("features", new JSONArray(java.util.Arrays.asList(FEATURES)));
      System.out.println(o);
      return;
    }
    open(new JSONObject(argv[0]));
    new CountDownLatch(1).await();
  }

  /** A client (its Manager and a Socket per configured namespace) connecting as the configuration says. */
  static Fixture open(JSONObject config) throws Exception {
    IO.Options opts = new IO.Options();
    opts.path = config.optString("path", "/socket.io/");
    JSONArray transports = config.optJSONArray("transports");
    if (transports != null) {
      opts.transports = new String[transports.length()];
      for (int i = 0; i < transports.length(); i++) opts.transports[i] = transports.getString(i);
    }
    opts.upgrade = config.optBoolean("upgrade", true);
    JSONObject rc = config.optJSONObject("reconnection");
    if (rc == null) rc = new JSONObject();
    opts.reconnection = rc.optBoolean("enabled", true);
    if (rc.has("delayMs") && !rc.isNull("delayMs")) opts.reconnectionDelay = rc.getLong("delayMs");
    if (rc.has("delayMaxMs") && !rc.isNull("delayMaxMs")) opts.reconnectionDelayMax = rc.getLong("delayMaxMs");
    // 0.0 would mean the library's default (0.5): the smallest positive factor stands for none.
    if (rc.has("jitter") && !rc.isNull("jitter")) {
      double j = rc.getDouble("jitter");
      opts.randomizationFactor = j == 0 ? 1e-9 : j;
    }
    if (rc.has("attempts") && !rc.isNull("attempts")) opts.reconnectionAttempts = rc.getInt("attempts");
    if (config.has("timeoutMs") && !config.isNull("timeoutMs")) opts.timeout = config.getLong("timeoutMs");
    JSONObject query = config.optJSONObject("query");
    if (query != null) {
      StringBuilder q = new StringBuilder();
      for (Iterator<?> it = query.keys(); it.hasNext(); ) {
        String k = (String) it.next();
        if (q.length() > 0) q.append('&');
        q.append(k).append('=').append(query.get(k));
      }
      opts.query = q.toString();
    }
    Manager manager = new Manager(new URI(config.getString("url")), opts);
    Fixture f = new Fixture(config, manager);
    manager.on(Manager.EVENT_RECONNECT_ATTEMPT, args -> {
      JSONObject l = line("reconnect_attempt");
      put(l, "n", args.length > 0 ? args[0] : null);
      say(l);
    });
    manager.on(Manager.EVENT_RECONNECT_FAILED, args -> say(line("reconnect_failed")));
    manager.on(Manager.EVENT_RECONNECT, args -> say(line("reconnect")));
    JSONArray namespaces = config.optJSONArray("namespaces");
    if (namespaces == null) namespaces = new JSONArray().put("/");
    JSONObject auth = config.optJSONObject("auth");
    for (int i = 0; i < namespaces.length(); i++) f.join(namespaces.getString(i), auth);
    return f;
  }
}
