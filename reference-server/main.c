/* build/reference-server: command line, signals, the main loop, clean shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cluster_adapter.h"
#include "eio.h"
#include "socketio.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The defaults and bounds printed here are the ones the server uses (server.h). */
static void usage(FILE *out)
{
    fprintf(out,
            "usage: reference-server [options]\n"
            "Engine.IO v4 / Socket.IO v5 reference server running the conformance fixture\n"
            "(conformance/FIXTURE.md). Prints 'READY <port>' on stdout once listening.\n\n"
            "  --host ADDR            IPv4 address to bind (%s; env HOST)\n"
            "  --port N               TCP port, 0 = any free port (%u; env PORT)\n"
            "  --path P               Socket.IO endpoint path, at most %u bytes (%s)\n"
            "  --echo-path P          Engine.IO echo endpoint path, '' = none (%s)\n"
            "  --ping-interval MS     Engine.IO pingInterval (%u; env PING_INTERVAL_MS)\n"
            "  --ping-timeout MS      Engine.IO pingTimeout (%u; env PING_TIMEOUT_MS)\n"
            "  --max-payload BYTES    largest POST body / WebSocket message, at most %u\n"
            "                         (%u; env MAX_PAYLOAD)\n"
            "  --connect-timeout MS   Socket.IO: close connections that join no namespace\n"
            "                         (%u; env CONNECT_TIMEOUT_MS)\n"
            "  --upgrade-timeout MS   a probing WebSocket that has not sent the upgrade packet\n"
            "                         by then is closed; polling goes on (%u; env\n"
            "                         UPGRADE_TIMEOUT_MS)\n"
            "  --max-connections N    refuse TCP connections above N (0 = no limit)\n"
            "  --allow-eio3, --eio3   also accept Engine.IO v3 clients (env EIO3=1)\n"
            "  --deterministic        ids from counters (eio-session-NNNNNNNN,\n"
            "                         sio-socket--NNNNNNNN) instead of random ones, for\n"
            "                         byte-identical recordings (env DETERMINISTIC=1); never for\n"
            "                         a server others can reach\n"
            "  --initial-packet TEXT  echo endpoint: send message TEXT right after the open\n"
            "                         packet, as engine.io's initialPacket (at most %u bytes;\n"
            "                         env INITIAL_PACKET)\n"
            "  --app NAME             socketio (default) or engineio-echo, served on --path\n"
            "  --cors-origin ORIGIN   Access-Control-Allow-Origin value ('%s'; '' = no CORS)\n"
            "  --adapter URL          join the cluster whose nodes meet in this Redis,\n"
            "                         redis://HOST:PORT[/DB] (env ADAPTER); READY once subscribed\n"
            "  --adapter-key P        channel prefix (%s; env ADAPTER_KEY)\n"
            "  --adapter-requests-timeout MS  how long a cluster-wide request waits for the other\n"
            "                         nodes (%u; env ADAPTER_REQUESTS_TIMEOUT_MS)\n"
            "  --adapter-specific-response  answer other nodes on their own response channel\n"
            "                         (env ADAPTER_SPECIFIC_RESPONSE=1)\n"
            "  --adapter-uid UID      this node's uid, six of [A-Za-z0-9_-], instead of a random\n"
            "                         one: for byte-identical recordings only (env ADAPTER_UID)\n"
            "  --log-level LEVEL      error, warn (default), info or debug; logs go to stderr\n"
            "  --help                 this text\n"
            "Times are at most %u ms; --max-connections at most %u.\n",
            SERVER_DEFAULT_HOST, SERVER_DEFAULT_PORT, SERVER_MAX_PATH, SERVER_DEFAULT_PATH,
            SERVER_DEFAULT_ECHO_PATH, SERVER_DEFAULT_PING_INTERVAL_MS,
            SERVER_DEFAULT_PING_TIMEOUT_MS, SERVER_MAX_PAYLOAD_LIMIT, SERVER_DEFAULT_MAX_PAYLOAD,
            SERVER_DEFAULT_CONNECT_TIMEOUT_MS, SERVER_DEFAULT_UPGRADE_TIMEOUT_MS,
            SERVER_MAX_INITIAL_PACKET, SERVER_DEFAULT_CORS_ORIGIN, SERVER_DEFAULT_ADAPTER_KEY,
            SERVER_DEFAULT_ADAPTER_REQUESTS_TIMEOUT_MS, SERVER_MAX_TIME_MS,
            SERVER_MAX_CONNECTIONS_LIMIT);
}

/* Parses a non-negative decimal number no larger than `max`; exits on anything else. */
static uint32_t parse_number(const char *name, const char *text, uint64_t max)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end != '\0' || text[0] == '-' || v > max) {
        fprintf(stderr, "reference-server: %s: '%s' is not a number in 0..%llu\n", name, text,
                (unsigned long long)max);
        exit(2);
    }
    return (uint32_t)v;
}

static log_level parse_log_level(const char *text)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    for (int i = 0; i < 4; i++)
        if (strcmp(text, names[i]) == 0)
            return (log_level)i;
    fprintf(stderr, "reference-server: --log-level: unknown level '%s'\n", text);
    exit(2);
}

/* Defaults, then the environment variables of FIXTURE.md section 1; flags come last. */
static void config_defaults(server_config *cfg)
{
    const char *v;
    *cfg = (server_config){.host = SERVER_DEFAULT_HOST,
                           .port = SERVER_DEFAULT_PORT,
                           .path = SERVER_DEFAULT_PATH,
                           .echo_path = SERVER_DEFAULT_ECHO_PATH,
                           .ping_interval = SERVER_DEFAULT_PING_INTERVAL_MS,
                           .ping_timeout = SERVER_DEFAULT_PING_TIMEOUT_MS,
                           .max_payload = SERVER_DEFAULT_MAX_PAYLOAD,
                           .connect_timeout = SERVER_DEFAULT_CONNECT_TIMEOUT_MS,
                           .upgrade_timeout = SERVER_DEFAULT_UPGRADE_TIMEOUT_MS,
                           .app = APP_SOCKETIO,
                           .log_level = LOG_WARN,
                           .cors_origin = SERVER_DEFAULT_CORS_ORIGIN,
                           .adapter_key = SERVER_DEFAULT_ADAPTER_KEY,
                           .adapter_requests_timeout = SERVER_DEFAULT_ADAPTER_REQUESTS_TIMEOUT_MS};
    if ((v = getenv("HOST")) && *v)
        cfg->host = v;
    if ((v = getenv("PORT")) && *v)
        cfg->port = (int)parse_number("PORT", v, SERVER_MAX_PORT);
    if ((v = getenv("PING_INTERVAL_MS")) && *v)
        cfg->ping_interval = parse_number("PING_INTERVAL_MS", v, SERVER_MAX_TIME_MS);
    if ((v = getenv("PING_TIMEOUT_MS")) && *v)
        cfg->ping_timeout = parse_number("PING_TIMEOUT_MS", v, SERVER_MAX_TIME_MS);
    if ((v = getenv("MAX_PAYLOAD")) && *v)
        cfg->max_payload = parse_number("MAX_PAYLOAD", v, SERVER_MAX_PAYLOAD_LIMIT);
    if ((v = getenv("CONNECT_TIMEOUT_MS")) && *v)
        cfg->connect_timeout = parse_number("CONNECT_TIMEOUT_MS", v, SERVER_MAX_TIME_MS);
    if ((v = getenv("UPGRADE_TIMEOUT_MS")) && *v)
        cfg->upgrade_timeout = parse_number("UPGRADE_TIMEOUT_MS", v, SERVER_MAX_TIME_MS);
    if ((v = getenv("EIO3")) && strcmp(v, "1") == 0)
        cfg->allow_eio3 = true;
    if ((v = getenv("DETERMINISTIC")) && strcmp(v, "1") == 0)
        cfg->deterministic = true;
    if ((v = getenv("INITIAL_PACKET")) && *v)
        cfg->initial_packet = v;
    if ((v = getenv("ADAPTER")) && *v)
        cfg->adapter_url = v;
    if ((v = getenv("ADAPTER_KEY")) && *v)
        cfg->adapter_key = v;
    if ((v = getenv("ADAPTER_REQUESTS_TIMEOUT_MS")) && *v)
        cfg->adapter_requests_timeout =
            parse_number("ADAPTER_REQUESTS_TIMEOUT_MS", v, SERVER_MAX_TIME_MS);
    if ((v = getenv("ADAPTER_UID")) && *v)
        cfg->adapter_uid = v;
    if ((v = getenv("ADAPTER_SPECIFIC_RESPONSE")) && strcmp(v, "1") == 0)
        cfg->adapter_specific_response = true;
}

static void parse_options(int argc, char **argv, server_config *cfg)
{
    static const struct option opts[] = {{"host", 1, 0, 'h'},
                                         {"port", 1, 0, 'p'},
                                         {"path", 1, 0, 'P'},
                                         {"echo-path", 1, 0, 'E'},
                                         {"ping-interval", 1, 0, 'i'},
                                         {"ping-timeout", 1, 0, 't'},
                                         {"max-payload", 1, 0, 'm'},
                                         {"connect-timeout", 1, 0, 'c'},
                                         {"upgrade-timeout", 1, 0, 'u'},
                                         {"max-connections", 1, 0, 'n'},
                                         {"allow-eio3", 0, 0, '3'},
                                         {"eio3", 0, 0, '3'},
                                         {"app", 1, 0, 'a'},
                                         {"deterministic", 0, 0, 'D'},
                                         {"initial-packet", 1, 0, 'I'},
                                         {"cors-origin", 1, 0, 'o'},
                                         {"log-level", 1, 0, 'l'},
                                         {"adapter", 1, 0, 'R'},
                                         {"adapter-key", 1, 0, 'K'},
                                         {"adapter-requests-timeout", 1, 0, 'T'},
                                         {"adapter-specific-response", 0, 0, 'S'},
                                         {"adapter-uid", 1, 0, 'U'},
                                         {"help", 0, 0, 'H'},
                                         {0, 0, 0, 0}};
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'h':
            cfg->host = optarg;
            break;
        case 'p':
            cfg->port = (int)parse_number("--port", optarg, SERVER_MAX_PORT);
            break;
        case 'P':
            cfg->path = optarg;
            break;
        case 'E':
            cfg->echo_path = optarg;
            break;
        case 'i':
            cfg->ping_interval = parse_number("--ping-interval", optarg, SERVER_MAX_TIME_MS);
            break;
        case 't':
            cfg->ping_timeout = parse_number("--ping-timeout", optarg, SERVER_MAX_TIME_MS);
            break;
        case 'm':
            cfg->max_payload = parse_number("--max-payload", optarg, SERVER_MAX_PAYLOAD_LIMIT);
            break;
        case 'c':
            cfg->connect_timeout = parse_number("--connect-timeout", optarg, SERVER_MAX_TIME_MS);
            break;
        case 'u':
            cfg->upgrade_timeout = parse_number("--upgrade-timeout", optarg, SERVER_MAX_TIME_MS);
            break;
        case 'n':
            cfg->max_connections =
                parse_number("--max-connections", optarg, SERVER_MAX_CONNECTIONS_LIMIT);
            break;
        case '3':
            cfg->allow_eio3 = true;
            break;
        case 'D':
            cfg->deterministic = true;
            break;
        case 'I':
            cfg->initial_packet = optarg;
            break;
        case 'a':
            if (strcmp(optarg, "socketio") != 0 && strcmp(optarg, "engineio-echo") != 0) {
                fprintf(stderr, "reference-server: --app: socketio or engineio-echo\n");
                exit(2);
            }
            cfg->app = strcmp(optarg, "socketio") == 0 ? APP_SOCKETIO : APP_ENGINEIO_ECHO;
            break;
        case 'o':
            cfg->cors_origin = optarg;
            break;
        case 'l':
            cfg->log_level = parse_log_level(optarg);
            break;
        case 'R':
            cfg->adapter_url = optarg;
            break;
        case 'K':
            cfg->adapter_key = optarg;
            break;
        case 'T':
            cfg->adapter_requests_timeout =
                parse_number("--adapter-requests-timeout", optarg, SERVER_MAX_TIME_MS);
            break;
        case 'S':
            cfg->adapter_specific_response = true;
            break;
        case 'U':
            cfg->adapter_uid = optarg;
            break;
        case 'H':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc || cfg->path[0] != '/' || strlen(cfg->path) > SERVER_MAX_PATH) {
        usage(stderr);
        exit(2);
    }
}

/* Many concurrent WebSockets need many descriptors: take the hard limit if allowed. */
static void raise_fd_limit(server *srv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_msg(srv, LOG_WARN, "could not raise the descriptor limit");
    }
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* The application's namespaces exist from the start in a cluster (their subscriptions are how
 * the other nodes count this one), then the link to Redis starts. */
static bool join_cluster(server *srv)
{
    char why[128];
    for (const char *const *name = srv->app->namespaces; name && *name; name++)
        srv_namespace_get(srv->sio, *name);
    if (!srv_cluster_start(srv->sio, why)) {
        fprintf(stderr, "reference-server: %s\n", why);
        return false;
    }
    return true;
}

/* Under AddressSanitizer the server keeps no emptied buffer blocks (buf_keep_blocks), so that a
 * block used after its buffer let it go is still reported. */
#if defined(__SANITIZE_ADDRESS__)
#define SERVER_KEEPS_BLOCKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SERVER_KEEPS_BLOCKS 0
#endif
#endif
#ifndef SERVER_KEEPS_BLOCKS
#define SERVER_KEEPS_BLOCKS 1
#endif

int main(int argc, char **argv)
{
    static server srv;
    config_defaults(&srv.cfg);
    parse_options(argc, argv, &srv.cfg);
    const char *initial = srv.cfg.initial_packet;
    if (initial && (strlen(initial) > SERVER_MAX_INITIAL_PACKET ||
                    sio_utf8_validate((const uint8_t *)initial, strlen(initial), NULL) != SIO_OK)) {
        fprintf(stderr, "reference-server: --initial-packet: at most %u bytes of UTF-8\n",
                SERVER_MAX_INITIAL_PACKET);
        return 2;
    }
    srv.listen_fd = -1;
    srv.random_fd = open("/dev/urandom", O_RDONLY);
    if (srv.random_fd < 0) {
        perror("reference-server: /dev/urandom");
        return 1;
    }
    install_signals();
    raise_fd_limit(&srv);
    loop_init(&srv.loop);
    if (SERVER_KEEPS_BLOCKS)
        buf_keep_blocks(SERVER_KEPT_FIRST_BLOCKS, SERVER_READ_CHUNK);
    eio_configure(&srv);
    srv.app = fixture_app();
    srv.app_state = fixture_state_new();
    srv.sio = srv_socketio_new(&srv, srv.app, srv.app_state);
    if (srv.cfg.adapter_url && !join_cluster(&srv))
        return 2;
    int port = net_listen(&srv);
    if (port < 0)
        return 1;
    srv.port = port;
    /* In a cluster, READY once every subscription is confirmed: the other nodes count this
     * one by them (FIXTURE.md section 8). */
    while (srv.cfg.adapter_url && !srv_cluster_up(srv.sio) && !stop_requested)
        loop_run_once(&srv.loop, 200);
    printf("READY %d\n", port);
    fflush(stdout);
    log_msg(&srv, LOG_INFO, "listening on %s:%d, path %s", srv.cfg.host, port, srv.cfg.path);
    while (!stop_requested)
        loop_run_once(&srv.loop, 200);
    log_msg(&srv, LOG_INFO, "shutting down");
    eio_close_all(&srv);
    /* Give close frames and final responses a moment to leave, then drop everything. */
    uint64_t deadline = loop_now_ms() + 300;
    while (srv.conn_count > 0 && loop_now_ms() < deadline)
        loop_run_once(&srv.loop, 50);
    net_close_all(&srv);
    srv_cluster_free(srv.sio);
    srv_socketio_free(srv.sio);
    loop_free(&srv.loop);
    buf_keep_blocks(0, 0);
    close(srv.random_fd);
    return 0;
}
