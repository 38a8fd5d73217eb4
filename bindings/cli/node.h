/* gpurent node ROLE and gpurent request submit: the market across processes
 * over NATS JetStream (docs/net.md). Only these files use libnats; the
 * library itself never does. */
#ifndef GPURENT_CLI_NODE_H
#define GPURENT_CLI_NODE_H

#include <stdint.h>
#include <nats/nats.h>

#include "cli.h"

/* The statement type of a cut (a CLI-level statement, not a library record:
 * the envelope layer signs any record type, docs/net.md "Cuts"). Payload:
 * the canonical map {0: 4096, 1: scope (text), 2: number, 3: boundary_s}.
 * scope "batch:<market>" (a matchmaker's batch cut, epoch number) or "era"
 * (an auditor's era cut, era number). */
#define NODE_STATEMENT_CUT 4096u
#define NODE_SCOPE_MAX 48

/* Why a consumer dropped a message (counted, written to stats.json). */
enum {
    DROP_UNDECODABLE = 0, /* not a canonical envelope / payload */
    DROP_FORGED,          /* bad signature, or the subject's key is not the issuer */
    DROP_REPLAYED,        /* (issuer, nonce) accepted before */
    DROP_UNKNOWN_SIGNER,  /* issuer not trusted for the role, or revoked */
    DROP_EXPIRED,         /* outside its validity window at the stream time */
    DROP_REFUSED,         /* valid, but the role refused it (stale offer, duplicate request, closed era) */
    DROP_COUNT
};
extern const char *const node_drop_names[DROP_COUNT];

/* One message read from the stream. */
typedef struct node_msg {
    natsMsg *msg;
    const char *subject;
    const uint8_t *data;
    size_t len;
    uint64_t seq;  /* stream sequence */
    uint64_t time; /* the server's timestamp, Unix seconds (the clock every decision uses) */
} node_msg;

typedef struct node_net {
    natsConnection *nc;
    jsCtx *js;
    natsSubscription *sub;
    char stream[64];
    uint64_t drops[DROP_COUNT];
    uint64_t accepted;
} node_net;

/* Common command-line options of every node command. */
#define NODE_NET_OPTS                                                                                     \
    {"--server", OPT_STR, 0, 0, 0}, {"--stream", OPT_STR, 0, 0, 0}, {"--replicas", OPT_U64, 0, 1, 5},   \
        {"--key", OPT_STR, 0, 0, 0}, {"--trust", OPT_STR, 0, 0, 0}, {"--pass-env", OPT_STR, 0, 0, 0},   \
        {"--pass-file", OPT_STR, 0, 0, 0}, {"--market", OPT_STR, 0, 0, 0}

/* Connect (servers: "nats://h:p[,nats://h:p...]"), bind JetStream and
 * ensure the stream exists (created with the NETSPEC layout when missing).
 * 0 or an exit code (message printed). */
int node_connect(node_net *n, const cli_args *a, const char *cmd);
void node_close(node_net *n);
/* node_close() at the end of a command that returns `rc`: should closing
 * hang (a libnats 3.4 deadlock), the process exits with `rc` after 3 s. */
void node_close_then_exit_code(node_net *n, int rc);
/* Publish an envelope on `subject` with Nats-Msg-Id = `msg_id` (NULL: hex
 * BLAKE2b-256 of the bytes). *seq (may be NULL) receives the stream sequence,
 * *dup whether the server dropped it as a duplicate. NATS status. */
int node_publish(node_net *n, const char *subject, const uint8_t *data, size_t len, const char *msg_id,
                 uint64_t *seq, int *dup);
/* An ordered consumer of the whole stream starting at `start_seq` (>= 1). */
int node_subscribe(node_net *n, uint64_t start_seq);
/* Next message within timeout_ms: 1 (m filled; release with node_msg_free), 0 timeout, -1 error. */
int node_next(node_net *n, int timeout_ms, node_msg *m);
void node_msg_free(node_msg *m);

/* Verify a message's envelope for `statement` and `role` at the stream time
 * (skew 60 s), with the replay check of `trust` when `replay`; the subject's
 * last token must be the issuer's hex key when `keyed`. On success 0 and
 * *out (free with gpurent_verified_free); else the drop reason is counted
 * and -1 returned. */
int node_verify(node_net *n, gpurent_trust *trust, const node_msg *m, uint32_t statement, uint32_t role,
                int replay, int keyed, gpurent_verified **out);

/* The drop reason (DROP_*) of a failed verification status. */
int node_drop_reason(int rc);
/* The lowercase hex of a 32-byte key into buf[65]. */
void node_hex32(const uint8_t k[32], char buf[65]);
/* BLAKE2b-256 over the concatenation of the parts (NULL-terminated list of (ptr,len) pairs). */
void node_hash(uint8_t out[32], const char *tag, const void *a, size_t alen, const void *b, size_t blen);

/* Cuts. */
typedef struct node_cut {
    char scope[NODE_SCOPE_MAX];
    uint64_t number;
    uint64_t boundary_s;
} node_cut;
/* node_cut.c. Encode: 0 or GPURENT_E_INVALID_FIELD (scope empty, too long or
 * not printable ASCII) / GPURENT_E_NOMEM; out->data is malloc'd (free()).
 * Decode: 0, or -1 for anything but the canonical encoding of a valid cut. */
int node_cut_encode(const node_cut *c, gpurent_buf *out);
int node_cut_decode(const uint8_t *p, size_t len, node_cut *c);
/* Sign and publish a cut; Nats-Msg-Id derived from (scope, number), so the
 * server keeps one cut per scope and number whoever publishes first (with
 * own_id: the envelope digest, the fallback when that id was taken by
 * something consumers refuse). *dup (may be NULL): the server had the id. */
int node_cut_publish(node_net *n, const gpurent_key *key, const char *subject, const node_cut *c, int own_id,
                     int *dup);

/* State folder: "<dir>/<name>" into buf. */
int node_path(char *buf, size_t cap, const char *dir, const char *name);
/* Write stats.json (drops, accepted, last sequence, role extras as JSON object `extra`, stolen). */
void node_write_stats(const node_net *n, const char *dir, uint64_t last_seq, json_t *extra);
/* Append one line to <dir>/<file> (outputs: receipts.log, certs.log). */
void node_log_line(const char *dir, const char *file, const char *line);

/* 1 once SIGTERM/SIGINT arrived (handlers installed by node_signals). */
extern volatile int node_stop;
void node_signals(void);
double node_wall(void);

int cmd_node(int argc, char **argv);
int cmd_request(int argc, char **argv);
int node_matchmaker(int argc, char **argv);
int node_auditor(int argc, char **argv);
int node_provider(int argc, char **argv);

#endif
