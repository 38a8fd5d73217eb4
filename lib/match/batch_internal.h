/* The batch, shared by its three parts: the greedy pass and the receipt it
 * builds (batch.c), the improvement phase (improve.c) and applying a receipt
 * (apply.c). The digests a receipt binds are in digest.c. */
#ifndef GPURENT_BATCH_INTERNAL_H
#define GPURENT_BATCH_INTERNAL_H

#include "match_internal.h"

#define ML_GROW(p, cap, want, size) ml_grow(p, cap, want, size, "match: batch arrays")

/* A pending request in batch order. */
typedef struct ml_batch_order {
    uint64_t key;   /* aged priority per unit of size (smaller first) */
    uint64_t key_big; /* aged priority x size (larger first) */
    uint64_t prio;
    uint64_t hash;  /* keyed hash of the id */
    const char *id; /* the request's id, the last tie-break (sorts need no context) */
    uint32_t slot;
} ml_batch_order;

/* One node's share of an assignment. */
typedef struct ml_batch_placement {
    uint32_t node;
    uint8_t gpus, share, gpu_index, pad;
    uint32_t asg;        /* its assignment */
    uint32_t next;       /* next placement on the same node (improvement phase) */
} ml_batch_placement;

/* A request the batch placed: its placements are pl[first .. first+count). */
typedef struct ml_batch_assignment {
    uint32_t slot;       /* request */
    const char *id;      /* its id: the receipt lists assignments in id order */
    uint64_t value;
    uint64_t prio;
    uint32_t first, count; /* count 0: dropped by the improvement phase */
} ml_batch_assignment;

/* The batch in progress: it works on the live index, logging every capacity
 * change in `undo` so that the index is restored at the end. */
typedef struct ml_batch {
    gpurent_market *m;
    mundo *undo;
    uint32_t undo_len, undo_cap;
    ml_batch_placement *pl;
    uint32_t pl_len, pl_cap;
    ml_batch_assignment *as;
    uint32_t as_len, as_cap;
    uint32_t *node_head; /* improvement phase: first placement per node slot */
    uint32_t *asg_of;    /* improvement phase: assignment per request slot, NIL none */
} ml_batch;

/* Take capacity on a node, logging the old value. */
int ml_batch_take(ml_batch *b, uint32_t n, uint32_t gpus, uint32_t share, uint32_t gpu_index);
/* Give whole GPUs back to a node, logging the old value. */
int ml_batch_give(ml_batch *b, uint32_t n, uint32_t gpus);
/* Restore the index to what it was when the log held `mark` entries. */
void ml_batch_rollback(ml_batch *b, uint32_t mark);
void ml_batch_undo_all(ml_batch *b);
/* A placement's value per GPU: the aged priority plus the node's static score. */
uint64_t ml_batch_unit_value(const gpurent_market *m, uint64_t prio, const mnode *n);
/* Record the best hit of `s` for request `o` and take its capacity. */
int ml_batch_place(ml_batch *b, msearch *s, const ml_batch_order *o);
/* The improvement phase (improve.c) after the greedy pass. */
int ml_batch_improve(ml_batch *b, const ml_batch_order *order, uint32_t n, uint32_t strand, uint64_t greedy_work,
                     const gpurent_cancel *cancel);

#endif
