/* bl_agent_index.h: the SQLite index of runs, samples and files the agent wrote. */
#ifndef BL_AGENT_INDEX_H
#define BL_AGENT_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "bl_join.h"

struct bl_agent_index;

/* What a file holds, updated as it grows and when it closes. */
struct bl_index_file_counts {
	uint64_t frames, untagged, missing, rejected;
};

/* Opens (creating the schema) the database at PATH: WAL, synchronous=NORMAL. 0 or -errno
 * (-EIO for an SQLite failure, the message in ERR). */
int bl_agent_index_open(struct bl_agent_index **out, const char *path, char *err, size_t errsz);
void bl_agent_index_close(struct bl_agent_index *x);

/* A run (one detector series): its kind ("sample", "print", "unknown") and label from the
 * series' first edge (NULL: untagged); the sample row is upserted by barcode. *RUN_ID. */
int bl_agent_index_run_begin(struct bl_agent_index *x, uint64_t series, const struct bl_edge *first,
			     int64_t *run_id);
/* STATUS: "complete", "incomplete", "failed", "aborted". */
int bl_agent_index_run_end(struct bl_agent_index *x, int64_t run_id, const char *status);

int bl_agent_index_file_begin(struct bl_agent_index *x, int64_t run_id, const char *path,
			      int64_t *file_id);
/* STATUS: "writing", "closed", "failed". */
int bl_agent_index_file_update(struct bl_agent_index *x, int64_t file_id, const char *status,
			       const struct bl_index_file_counts *c);

/* The forwarding counters (one row, table `forwarding`): frames waiting, forwarded, spooled
 * (had to wait on disk), dropped. */
struct bl_index_forwarding {
	uint64_t queued, forwarded, spooled, dropped;
};
int bl_agent_index_forwarding(struct bl_agent_index *x, const struct bl_index_forwarding *f);

/* Frames stored but not yet forwarded when the agent stopped (table `fwd_queue`): the next agent
 * sends them first. Save replaces the table; take hands each row to FN (0: taken) in order,
 * empties the table and returns how many were taken, or -EIO. */
struct bl_index_queued {
	const char *path;
	uint64_t row;
	const char *tag;
};
int bl_agent_index_queue_save(struct bl_agent_index *x, size_t n, const struct bl_index_queued *q);
int bl_agent_index_queue_take(struct bl_agent_index *x,
			      int (*fn)(void *ctx, const struct bl_index_queued *q), void *ctx);

const char *bl_agent_index_error(const struct bl_agent_index *x);

#endif
