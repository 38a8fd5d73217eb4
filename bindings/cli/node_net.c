/* The NATS JetStream plumbing every node shares: connect, ensure the
 * stream, publish envelopes with their digest as message id, an ordered
 * consumer, verification with counted drops, cuts, state files. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>

#include <sodium.h>

#include "node.h"

const char *const node_drop_names[DROP_COUNT] = {"undecodable", "forged", "replayed", "unknown_signer", "expired",
                                                 "refused"};

volatile int node_stop = 0;
static void on_signal(int sig) { (void)sig; node_stop = 1; }

void node_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

double node_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void node_hex32(const uint8_t k[32], char buf[65])
{
    sodium_bin2hex(buf, 65, k, 32);
}

void node_hash(uint8_t out[32], const char *tag, const void *a, size_t alen, const void *b, size_t blen)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const unsigned char *)tag, strlen(tag) + 1);
    if (alen) crypto_generichash_update(&st, a, alen);
    if (blen) crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, out, 32);
}

/* ---- connection and stream ---- */

static int nats_fail(const char *cmd, const char *what, natsStatus s)
{
    return cli_fail(cmd, EXIT_FAILED, "%s: %s (%s)", what, natsStatus_GetText(s), nats_GetLastError(NULL));
}

int node_connect(node_net *n, const cli_args *a, const char *cmd)
{
    memset(n, 0, sizeof *n);
    const char *servers = cli_opt(a, "--server");
    if (!servers) return cli_usage_error(a, "--server nats://HOST:PORT[,...] is required");
    const char *stream = cli_opt(a, "--stream");
    if (!stream) stream = getenv("GPURENT_STREAM");
    if (!stream || !*stream) stream = "GPURENT";
    if (strlen(stream) >= sizeof n->stream || strpbrk(stream, ". *>"))
        return cli_usage_error(a, "--stream: a name without '.', '*', '>' or spaces, under 64 bytes");
    snprintf(n->stream, sizeof n->stream, "%s", stream);
    /* The comma list into an array of URLs. */
    char *copy = strdup(servers);
    const char *urls[16];
    int nurls = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && nurls < 16; t = strtok_r(NULL, ",", &save))
        urls[nurls++] = t;
    if (!nurls) { free(copy); return cli_usage_error(a, "--server: no URL"); }
    natsOptions *o = NULL;
    natsStatus s = natsOptions_Create(&o);
    if (s == NATS_OK) s = natsOptions_SetServers(o, urls, nurls);
    if (s == NATS_OK) s = natsOptions_SetTimeout(o, 5000);
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, -1); /* a cluster member may go: keep trying the others */
    if (s == NATS_OK) s = natsOptions_SetRetryOnFailedConnect(o, true, NULL, NULL);
    if (s == NATS_OK) s = natsConnection_Connect(&n->nc, o);
    natsOptions_Destroy(o);
    free(copy);
    if (s != NATS_OK) return nats_fail(cmd, "connect", s);
    if ((s = natsConnection_JetStream(&n->js, n->nc, NULL)) != NATS_OK) return nats_fail(cmd, "jetstream", s);
    /* Ensure the stream: subjects gpurent.>, file storage, limits, a 10-minute
     * duplicate window, replicas min(3, servers) unless --replicas says. */
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    s = js_GetStreamInfo(&si, n->js, n->stream, NULL, &jerr);
    if (s == NATS_OK) { jsStreamInfo_Destroy(si); return 0; }
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    const char *subj[] = {"gpurent.>"};
    cfg.Name = n->stream;
    cfg.Subjects = subj;
    cfg.SubjectsLen = 1;
    cfg.Storage = js_FileStorage;
    cfg.Retention = js_LimitsPolicy;
    cfg.Duplicates = (int64_t)600 * 1000000000;
    cfg.Replicas = (int64_t)cli_opt_u64(a, "--replicas", nurls < 3 ? (uint64_t)nurls : 3);
    for (int tries = 0; tries < 20; tries++) {
        s = js_AddStream(&si, n->js, &cfg, NULL, &jerr);
        if (s == NATS_OK) { jsStreamInfo_Destroy(si); return 0; }
        /* Another node created it first, or the cluster is still electing. */
        if (js_GetStreamInfo(&si, n->js, n->stream, NULL, &jerr) == NATS_OK) { jsStreamInfo_Destroy(si); return 0; }
        nats_Sleep(250);
    }
    return nats_fail(cmd, "create stream", s);
}

/* libnats 3.4.1 can deadlock while closing a connection that carries an
 * ordered consumer: natsConn_close joins the reader thread, which waits
 * forever on a subscription lock (seen about once in 30 runs on a 3-server
 * cluster). Closing is the last thing a node does and its state is already
 * saved, so a watchdog ends the process with the exit code it meant to
 * return when closing takes more than 3 seconds. */
static volatile sig_atomic_t close_rc;
static void on_close_timeout(int sig)
{
    (void)sig;
    _exit(close_rc);
}

void node_close_then_exit_code(node_net *n, int rc)
{
    fflush(stdout);
    fflush(stderr);
    close_rc = rc;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_close_timeout;
    sigaction(SIGALRM, &sa, NULL);
    alarm(3);
    node_close(n);
    alarm(0);
}

void node_close(node_net *n)
{
    /* Close the connection first: its reader thread stops before the
     * subscription goes (destroying an ordered consumer's subscription while
     * the reader delivers to it deadlocked libnats 3.4 in natsConn_destroy). */
    if (n->nc) {
        natsConnection_FlushTimeout(n->nc, 1000);
        natsConnection_Close(n->nc);
    }
    if (n->sub) natsSubscription_Destroy(n->sub);
    if (n->js) jsCtx_Destroy(n->js);
    if (n->nc) natsConnection_Destroy(n->nc);
    memset(n, 0, sizeof *n);
}

int node_publish(node_net *n, const char *subject, const uint8_t *data, size_t len, const char *msg_id,
                 uint64_t *seq, int *dup)
{
    char idbuf[65];
    if (!msg_id) {
        /* The id covers the subject too: someone who holds the bytes first
         * and files them under a wrong subject (which readers drop) must
         * not make the server refuse the author's own publication as a
         * duplicate (docs/net.md). */
        uint8_t d[32];
        node_hash(d, subject, data, len, NULL, 0);
        node_hex32(d, idbuf);
        msg_id = idbuf;
    }
    natsMsg *m = NULL;
    natsStatus s = natsMsg_Create(&m, subject, NULL, (const char *)data, (int)len);
    if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
    jsPubAck *ack = NULL;
    jsErrCode jerr = 0;
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 5000;
    for (int tries = 0; s == NATS_OK && tries < 20; tries++) {
        s = js_PublishMsg(&ack, n->js, m, &po, &jerr);
        if (s == NATS_OK || node_stop) break;
        /* A leader election in the cluster: the same id is safe to send again. */
        nats_Sleep(250);
        s = NATS_OK;
        if (tries == 19) s = NATS_TIMEOUT;
    }
    if (s == NATS_OK && ack) {
        if (seq) *seq = ack->Sequence;
        if (dup) *dup = ack->Duplicate;
    }
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(m);
    return s;
}

int node_subscribe(node_net *n, uint64_t start_seq)
{
    if (n->sub) { natsSubscription_Destroy(n->sub); n->sub = NULL; }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = n->stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq ? start_seq : 1;
    jsErrCode jerr = 0;
    return js_SubscribeSync(&n->sub, n->js, "gpurent.>", NULL, &so, &jerr);
}

int node_next(node_net *n, int timeout_ms, node_msg *m)
{
    memset(m, 0, sizeof *m);
    natsMsg *msg = NULL;
    natsStatus s = natsSubscription_NextMsg(&msg, n->sub, timeout_ms);
    if (s == NATS_TIMEOUT) return 0;
    if (s != NATS_OK) return -1;
    jsMsgMetaData *md = NULL;
    if (natsMsg_GetMetaData(&md, msg) != NATS_OK) { natsMsg_Destroy(msg); return 0; }
    m->msg = msg;
    m->subject = natsMsg_GetSubject(msg);
    m->data = (const uint8_t *)natsMsg_GetData(msg);
    m->len = (size_t)natsMsg_GetDataLength(msg);
    m->seq = md->Sequence.Stream;
    m->time = md->Timestamp > 0 ? (uint64_t)(md->Timestamp / 1000000000) : 0;
    jsMsgMetaData_Destroy(md);
    return 1;
}

void node_msg_free(node_msg *m)
{
    if (m->msg) natsMsg_Destroy(m->msg);
    memset(m, 0, sizeof *m);
}

/* ---- verification ---- */

int node_drop_reason(int rc)
{
    switch (rc) {
    case GPURENT_E_BAD_SIGNATURE: return DROP_FORGED;
    case GPURENT_E_REPLAYED: return DROP_REPLAYED;
    case GPURENT_E_UNKNOWN_ISSUER:
    case GPURENT_E_ROLE_NOT_ALLOWED:
    case GPURENT_E_REVOKED:
    case GPURENT_E_QUORUM_NOT_MET: return DROP_UNKNOWN_SIGNER;
    case GPURENT_E_EXPIRED:
    case GPURENT_E_NOT_YET_VALID: return DROP_EXPIRED;
    case GPURENT_E_EVIDENCE_REJECTED:
    case GPURENT_E_LIMIT: return DROP_REFUSED;
    default: return DROP_UNDECODABLE;
    }
}

int node_verify(node_net *n, gpurent_trust *trust, const node_msg *m, uint32_t statement, uint32_t role,
                int replay, int keyed, gpurent_verified **out)
{
    *out = NULL;
    gpurent_verify_options vo = GPURENT_VERIFY_OPTIONS_INIT;
    vo.statement = statement;
    vo.required_role = role;
    vo.check_replay = replay ? GPURENT_VERIFY_REPLAY_CHECK : GPURENT_VERIFY_REPLAY_OFF;
    if (keyed) {
        /* The subject names the issuer. Checked on the header BEFORE the
         * verification: a copy of someone's envelope filed under another
         * name (by whoever held the bytes first) is dropped without
         * entering the replay cache, so the author's own publication is
         * still accepted when it arrives. */
        gpurent_envelope h;
        char hex[65];
        int hrc = gpurent_envelope_decode(m->data, m->len, &h);
        if (hrc) { n->drops[node_drop_reason(hrc)]++; return -1; }
        node_hex32(h.issuer, hex);
        const char *dot = strrchr(m->subject, '.');
        if (!dot || strcmp(dot + 1, hex)) {
            n->drops[DROP_FORGED]++; /* signed by someone, published under another's name */
            return -1;
        }
    }
    gpurent_verified *v = NULL;
    int rc = gpurent_envelope_verify(trust, m->data, m->len, m->time, 60, &vo, &v);
    if (rc) { n->drops[node_drop_reason(rc)]++; return -1; }
    n->accepted++;
    *out = v;
    return 0;
}

/* ---- cuts (the codec is in node_cut.c) ---- */

int node_cut_publish(node_net *n, const gpurent_key *key, const char *subject, const node_cut *c, int own_id,
                     int *dup)
{
    gpurent_buf pay = {0}, env = {0};
    int rc = node_cut_encode(c, &pay);
    if (rc) return rc;
    gpurent_envelope h;
    gpurent_envelope_init(&h);
    h.statement = NODE_STATEMENT_CUT;
    h.issued_at = c->boundary_s;
    h.expires_at = c->boundary_s + 3600;
    uint8_t d[32];
    node_hash(d, "gpurent-cut-nonce", pay.data, pay.len, NULL, 0);
    memcpy(h.nonce, d, sizeof h.nonce);
    rc = gpurent_envelope_sign(key, &h, pay.data, pay.len, &env);
    free(pay.data);
    if (rc) return rc;
    /* One id per (scope, number): the first cut published is the cut. With
     * own_id the id is the envelope's digest instead: when someone took the
     * shared id with something that is not a valid cut, the proposers still
     * get a cut into the stream (consumers take the first valid one). */
    char id[65], num[32];
    snprintf(num, sizeof num, "%llu", (unsigned long long)c->number);
    node_hash(d, "gpurent-cut-id", c->scope, strlen(c->scope) + 1, num, strlen(num));
    node_hex32(d, id);
    rc = node_publish(n, subject, env.data, env.len, own_id ? NULL : id, NULL, dup);
    gpurent_buf_free(&env);
    return rc;
}

/* ---- state files ---- */

int node_path(char *buf, size_t cap, const char *dir, const char *name)
{
    return snprintf(buf, cap, "%s/%s", dir, name) >= (int)cap ? -1 : 0;
}

void node_write_stats(const node_net *n, const char *dir, uint64_t last_seq, json_t *extra)
{
    if (!dir) { json_decref(extra); return; }
    json_t *j = json_object(), *d = json_object();
    for (int i = 0; i < DROP_COUNT; i++) json_object_set_new(d, node_drop_names[i], json_integer((json_int_t)n->drops[i]));
    json_object_set_new(j, "dropped", d);
    json_object_set_new(j, "accepted", json_integer((json_int_t)n->accepted));
    json_object_set_new(j, "last_seq", json_integer((json_int_t)last_seq));
    json_object_set_new(j, "pid", json_integer((json_int_t)getpid()));
    if (extra) json_object_set_new(j, "role", extra);
    char *s = json_dumps(j, JSON_SORT_KEYS);
    json_decref(j);
    char path[4096];
    if (s && !node_path(path, sizeof path, dir, "stats.json")) cli_write_file(path, (const uint8_t *)s, strlen(s));
    free(s);
}

void node_log_line(const char *dir, const char *file, const char *line)
{
    char path[4096];
    if (!dir || node_path(path, sizeof path, dir, file)) return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    size_t l = strlen(line);
    ssize_t w = write(fd, line, l);
    (void)w;
    close(fd);
}
