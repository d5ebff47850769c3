/* bl_join.h: joins detector frames with the controller's trigger-edge records by (series, frame),
 * waiting a bounded time for late metadata and never tagging a frame with a guess. */
#ifndef BL_JOIN_H
#define BL_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define BL_EDGE_MAX_HEATERS 4

enum bl_edge_kind { BL_EDGE_FRAME = 1, BL_EDGE_MISSING, BL_EDGE_CUT };

/* Edge flags, the bits of firmware's "flags" array (same order). */
enum {
	BL_EDGEF_OFF_TIME = 1u << 0,
	BL_EDGEF_SHIFTED = 1u << 1,
	BL_EDGEF_EXTRA = 1u << 2,
	BL_EDGEF_NO_SAMPLE = 1u << 3,
	BL_EDGEF_NO_PRINT = 1u << 4,
};

/* Printer state latched at the edge ("print" object). */
struct bl_edge_print {
	int run;
	char label[64];
	char mode[8]; /* stage | web */
	double film_mm, axis_mm, since_coat_s, flow_ul_min, speed_mm_s;
	bool coated;
	int nheaters;
	double temp_c[BL_EDGE_MAX_HEATERS];
};

/* One "edge" event of the controller (firmware/README.md, "Trigger edges"). */
struct bl_edge {
	uint64_t series;
	enum bl_edge_kind kind;
	bool has_frame; /* missing/cut records may carry none */
	uint64_t frame;
	uint64_t prog;
	uint64_t t; /* controller ticks (us) of the edge */
	uint32_t flags;
	bool untagged; /* the controller had no metadata source: a frame joined with it stays
			  untagged */
	bool has_sample;
	int sample, puck, slot;
	char barcode[64];
	bool has_print;
	struct bl_edge_print print;
};

/* Parses an edge event's data object. 0 or -EBADMSG (field missing or of the wrong type). */
int bl_edge_parse(const cJSON *o, struct bl_edge *e);

/* A frame as the ingest hands it to the join: the chunk is the frame in HDF5 bitshuffle-LZ4
 * chunk format (filter 32008), in caller memory until the call returns. */
struct bl_join_frame {
	uint64_t series, frame;
	const void *chunk;
	size_t chunk_bytes;
	uint64_t start_ns, stop_ns; /* the detector's exposure times (since arm) */
	uint64_t missing_before;    /* frames the stream skipped just before this one */
};

/* What leaves the join, in frame order: the frame and its edge (NULL: untagged). */
typedef int (*bl_join_emit_fn)(void *ctx, const struct bl_join_frame *f, const struct bl_edge *e);

struct bl_join_config {
	unsigned slots;	    /* frames that can wait for their edge (default 64) */
	unsigned edges;	    /* edges kept for frames not yet here (default 4096) */
	uint64_t wait_us;   /* how long a frame waits for its edge (default 2 s) */
	size_t chunk_bytes; /* the largest chunk of a series (set by bl_join_series) */
};

struct bl_join_counters {
	uint64_t frames;       /* frames given */
	uint64_t tagged;       /* frames emitted with their edge */
	uint64_t untagged;     /* frames emitted untagged: no edge within the bound, or the edge
				  was "untagged" */
	uint64_t waited;       /* frames that arrived before their edge */
	uint64_t edges;	       /* edge records given */
	uint64_t edges_late;   /* frame edges that came after their frame left untagged */
	uint64_t edges_lost;   /* frame edges overwritten before their frame came */
	uint64_t edge_missing; /* "missing" records: programmed edges that never came */
	uint64_t edge_cut;     /* "cut" records: programmed edges of a stopped series */
	uint64_t emit_errors;  /* emit callbacks that failed */
};

struct bl_join;

/* 0, -ENOMEM. CFG NULL: defaults. */
int bl_join_new(struct bl_join **out, const struct bl_join_config *cfg);
void bl_join_free(struct bl_join *j);

/* A new series whose chunks are at most CHUNK_BYTES: the waiting slots grow once here if they
 * must (never per frame). Frames still waiting must have been released (bl_join_drain).
 * 0, -EBUSY (frames waiting), -ENOMEM. */
int bl_join_series(struct bl_join *j, uint64_t series, size_t chunk_bytes);

/* A frame arrived at NOW_US: emitted at once when its edge is known and nothing waits before
 * it, else copied into a slot. -ENOSPC when every slot is taken (call bl_join_poll until one
 * frees), -EMSGSIZE when larger than the series' chunk size, else the emit result. */
int bl_join_frame(struct bl_join *j, uint64_t now_us, const struct bl_join_frame *f,
		  bl_join_emit_fn emit, void *ctx);

/* An edge record arrived: releases the frames it completes. 0 or the first emit error. */
int bl_join_edge(struct bl_join *j, uint64_t now_us, const struct bl_edge *e, bl_join_emit_fn emit,
		 void *ctx);

/* Emits, in order, the waiting frames whose edge came or whose wait ran out by NOW_US. */
int bl_join_poll(struct bl_join *j, uint64_t now_us, bl_join_emit_fn emit, void *ctx);

/* Emits every waiting frame now (as untagged when its edge has not come): shutdown only. */
int bl_join_drain(struct bl_join *j, bl_join_emit_fn emit, void *ctx);

unsigned bl_join_waiting(const struct bl_join *j);
bool bl_join_full(const struct bl_join *j);
/* When the oldest waiting frame's wait runs out (UINT64_MAX: none waits). */
uint64_t bl_join_deadline(const struct bl_join *j);
const struct bl_join_counters *bl_join_counters(const struct bl_join *j);
const struct bl_join_config *bl_join_config(const struct bl_join *j);

#endif
