/* bl_agent.h: the host agent's ingest pipeline: detector stream in, controller edges in, joined
 * frames out to NeXus files indexed in SQLite. */
#ifndef BL_AGENT_H
#define BL_AGENT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_agent_index.h"
#include "bl_dstream.h"
#include "bl_join.h"
#include "bl_nx.h"
#include "proto/fw_client.h"

/* One analysis result for a stored frame (README "Results"), as handed to the decision layer. */
struct bl_agent_result {
	uint64_t series, frame;
	const char *path;  /* the frame's file */
	uint64_t index;	   /* its row in the file */
	const cJSON *meta; /* the worker's JSON: peaks, fit, timings, worker, ... */
	int nbins;	   /* the 1D profile (0 and NULL when the worker sent none) */
	const double *q, *mean, *sem;
	double latency_ms; /* frame stored -> its result in, agent clock */
};

struct bl_agent_config {
	const char *stream;		      /* detector stream endpoint (ZMQ PULL connects) */
	const struct bl_fw_client_config *fw; /* the controller; NULL: none (frames untagged) */
	const char *out_dir;		      /* files go to OUT_DIR/YYYYMMDD/ */
	const char *index_path;		      /* NULL: OUT_DIR/index.sqlite */
	/* Static metadata. width/height are the sensor's: a smaller frame is a binned sensor,
	 * so pixel size and beam centre are scaled to the frame (as bl-detector-sim bins). */
	struct bl_nx_static geom;
	uint64_t wait_us; /* how long a frame waits for its edge (0: 2 s) */
	unsigned slots;	  /* frames that can wait at once (0: 64) */
	/* Analysis workers (ROUTER binds; workers are DEALERs asking with "credit N"); NULL:
	 * no forwarding. See README "Forwarding". */
	const char *forward;
	/* Each analysis result as it comes, in the agent's thread (the decision layer); NULL:
	 * none. The pointers live until the callback returns. */
	void (*on_result)(void *ctx, const struct bl_agent_result *r);
	void *result_ctx;
	/* How long a closed file waits for its last results before they are written without
	 * them (0: 10 s). */
	uint64_t results_wait_us;
	/* Disk: a reserve file of RESERVE_BYTES in OUT_DIR is given back when a write fails, so
	 * the file can be closed valid; a series that starts with less than MIN_FREE_BYTES free
	 * is not stored (counted series_refused). 0: 8 MiB and 64 MiB. */
	uint64_t reserve_bytes, min_free_bytes;
	void (*log)(void *ctx, const char *line); /* NULL: stderr */
	void *log_ctx;
};

struct bl_agent_counters {
	struct bl_dstream_counters stream;
	struct bl_join_counters join;
	uint64_t bad_events;	/* controller events that were not edge records */
	uint64_t events_missed; /* controller events lost (seq gaps) */
	uint64_t files_opened, files_closed, files_failed;
	uint64_t frames_written;   /* frames in files */
	uint64_t frames_refused;   /* frames not stored because their series' file failed */
	uint64_t series_refused;   /* series whose file could not be created or written */
	uint64_t series_adopted;   /* series that streamed before this agent started (restart) */
	uint64_t reserve_released; /* the disk filled: the reserve file was given back */
	/* Forwarding: frames waiting (now), sent to a worker, sent or waiting from the file
	 * because no worker had credit when they were stored, never forwardable (logged). */
	uint64_t fwd_queued, fwd_forwarded, fwd_spooled, fwd_dropped;
	uint64_t fwd_workers;  /* workers that asked for frames */
	uint64_t fwd_requeued; /* frames in flight at a worker that went, sent again */
	uint64_t fwd_restored; /* frames a previous agent had not forwarded (from the index) */
	/* Results: taken (one per frame), not matching a frame in flight (a duplicate after a
	 * resend, or unknown: ignored), malformed (logged); files whose /entry/process was
	 * written, and the writes that failed (logged). */
	uint64_t results, results_unknown, results_bad, files_analysed, results_write_failed;
};

struct bl_agent;

/* Static metadata from the beamline description: geometry and the detector model of DEVICE
 * (NULL: the hwdb detector's); *STREAM, when NULL, gets the device's stream endpoint. 0 or
 * -ENOENT (ERR says). */
struct bl_hwdb;
int bl_agent_geometry_from_hwdb(const struct bl_hwdb *db, const char *device,
				struct bl_nx_static *s, const char **stream, char *err,
				size_t errsz);

/* Opens the index, connects the stream and subscribes to "edge". 0 or -errno, ERR says why. */
int bl_agent_new(struct bl_agent **out, const struct bl_agent_config *cfg, char *err, size_t errsz);
/* Closes an open file (status "interrupted", waiting frames stored untagged) and frees. */
void bl_agent_free(struct bl_agent *a);

/* One round: edges, up to a batch of stream messages, timed-out frames, idle flush; waits at
 * most TIMEOUT_MS when nothing is there. 0 or -errno (socket failure). */
int bl_agent_step(struct bl_agent *a, int timeout_ms);
/* Steps until *STOP. */
int bl_agent_run(struct bl_agent *a, atomic_bool *stop);

/* Sends command CMD {ARGS_JSON} to the controller over its CurveZMQ command socket and waits up
 * to TIMEOUT_MS for the reply (as bl_fw_client_call_json; *REPLY, when not NULL, is the result
 * or error object, caller frees). -ENOTCONN without a controller. Any thread. */
int bl_agent_command(struct bl_agent *a, const char *cmd, const char *args_json, int timeout_ms,
		     cJSON **reply);

/* A snapshot (any thread). */
void bl_agent_counters(struct bl_agent *a, struct bl_agent_counters *out);
/* The ROUTER endpoint workers connect to (after bind: the port picked), "" without. */
void bl_agent_forward_endpoint(struct bl_agent *a, char *out, size_t cap);
/* The path of the file of the last series that had one ("" when none); any thread. */
void bl_agent_last_file(struct bl_agent *a, char *out, size_t cap);

#endif
