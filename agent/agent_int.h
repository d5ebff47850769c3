/* agent_int.h: the agent's state, shared by its loop and its storage half. */
#ifndef BL_AGENT_INT_H
#define BL_AGENT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <zmq.h>

#include <cjson/cJSON.h>

#include "bl_agent.h"

/* The detector series in progress. */
struct agent_series {
	bool open;  /* header seen, file not yet closed */
	bool ended; /* dseries_end seen */
	bool complete;
	bool refused; /* its file failed: its frames are counted, not stored */
	uint64_t series;
	double count_time, frame_time;
	bool ready; /* buffers sized (first frame) */
	int width, height;
	enum bl_dtype type;
	struct bl_nx *nx;
	int64_t run_id, file_id;
	char path[PATH_MAX];
	uint64_t missing;
	uint64_t rejected0, emiss0, ecut0; /* counters at the series' start */
	uint64_t last_flush_us;
	uint32_t fwd_file;	/* its number in the forwarding's file table */
	struct bl_nx_static st; /* its file's static metadata (geometry binned to the frame) */
};

/* A stored frame waiting to be forwarded: read back from its file when a worker has credit. */
struct agent_fwd_rec {
	uint32_t file;
	uint64_t index; /* the frame's row in the file */
	char *tag;	/* its tag JSON */
};

struct agent_worker {
	uint8_t id[256];
	size_t idlen;
	uint64_t credit;
	bool acks; /* "credit N acks": answers each frame with a result; frames in flight are
		      kept and sent again if it goes */
	struct agent_fwd_rec *inflight; /* frames sent, no result yet (acks only) */
	size_t ninflight, inflight_cap;
	uint64_t last_seen_us;
};

#define AGENT_MAX_WORKERS 16

struct bl_agent {
	struct bl_agent_config cfg;
	char out_dir[PATH_MAX], index_path[PATH_MAX];
	struct bl_dstream *stream;
	struct bl_fw_client *fw;
	struct bl_fw_client *cmd; /* commands (bl_agent_command), opened at the first */
	pthread_mutex_t cmd_lock;
	struct bl_fw_client_config fwc; /* a copy of the caller's, strings below */
	char fw_str[5][256];
	struct bl_join *join;
	struct bl_agent_index *index;
	struct agent_series ser;
	uint8_t *chunk; /* encode buffer for frames that came raw or lz4 (once per series) */
	size_t chunk_cap;
	struct bl_agent_counters c;
	pthread_mutex_t lock;
	char last_file[PATH_MAX];
	void *zctx, *pull; /* the detector stream socket (agent_stream.c) */
	zmq_msg_t msgs[BL_DSTREAM_MAX_PARTS];
	int nmsgs;
	bool seen_header, adopted;
	/* forwarding (agent_fwd.c) */
	void *router;
	char fwd_endpoint[256];
	struct agent_worker workers[AGENT_MAX_WORKERS];
	int nworkers, next_worker;
	struct agent_fwd_rec *q; /* ring of frames waiting */
	size_t qcap, qhead, qlen;
	char **files; /* paths by number (1-based; 0: none) */
	uint32_t nfiles, files_cap;
	struct bl_nx_reader *rd; /* a closed file being forwarded from */
	uint32_t rd_file;
	void *rbuf; /* a chunk read back */
	size_t rcap;
	uint64_t fwd_saved_us;
	uint64_t probe_us; /* workers with frames in flight were last probed */
	void *monitor;	   /* PAIR receiving the ROUTER's disconnect events */
	/* disk space (agent_space.c) */
	char reserve_path[PATH_MAX];
	bool reserve_held;
	/* analysis results (agent_results.c) */
	struct agent_file_results **res; /* by file number, NULL: none yet */
	uint32_t res_cap;
};

uint64_t agent_now_us(void);
__attribute__((format(printf, 2, 3))) void agent_log(struct bl_agent *a, const char *fmt, ...);

/* Storage (agent_store.c). */
/* mkdir -p. 0 or -errno. */
int agent_make_dirs(const char *path);
int agent_emit(void *ctx, const struct bl_join_frame *f, const struct bl_edge *e);
/* Closes the series' file (if any) with STATUS and ends its run in the index. */
void agent_store_close(struct bl_agent *a, const char *status);
/* Flushes the open file when FORCE or its last flush is older than 200 ms. */
void agent_store_flush(struct bl_agent *a, bool force);

/* Handles one stream event (agent_loop.c). */
void agent_on_event(struct bl_agent *a, const struct bl_dstream_event *ev);

/* The stream socket (agent_stream.c): like bl_dstream_connect/poll, adopting a series that
 * streamed before the agent started. */
int agent_stream_open(struct bl_agent *a, const char *endpoint);
void agent_stream_close(struct bl_agent *a);
int agent_stream_poll(struct bl_agent *a, int timeout_ms, struct bl_dstream_event *ev);

/* Analysis results (agent_results.c): kept per file, written to its /entry/process when the
 * file is closed and has every result (or when nothing more can come), and handed to the
 * configured callback. PARTS: the "result" message's parts after the word itself. */
struct agent_file_results;
void agent_results_take(struct bl_agent *a, uint32_t file, uint64_t index, const cJSON *meta,
			zmq_msg_t *arrays, int narrays);
/* File FILE was closed with ROWS frames. */
void agent_results_file_closed(struct bl_agent *a, uint32_t file, uint64_t rows);
/* Writes files whose results are all in, or that have waited long enough (FORCE: all). */
void agent_results_flush(struct bl_agent *a, bool force);
void agent_results_free(struct bl_agent *a);

/* Disk space (agent_space.c): the reserve file is made at start (and again when space is
 * back), given back when a write fails; a series is accepted only above the minimum free. */
int agent_space_init(struct bl_agent *a);
void agent_space_release(struct bl_agent *a);
bool agent_space_accept(struct bl_agent *a);
void agent_space_close(struct bl_agent *a);

/* Forwarding (agent_fwd.c). */
int agent_fwd_open(struct bl_agent *a, const char *endpoint);
void agent_fwd_close(struct bl_agent *a);
/* Queues the frames a previous agent saved in the index (after the index is open). */
void agent_fwd_restore(struct bl_agent *a);
/* A file was opened: its number for the frames stored in it. */
void agent_fwd_file(struct bl_agent *a, const char *path);
/* Frame F (row INDEX of the open file, edge E) was stored: sent now or queued. */
void agent_fwd_frame(struct bl_agent *a, const struct bl_join_frame *f, const struct bl_edge *e,
		     uint64_t index);
/* Takes workers' credit and sends queued frames from their files. True when more could go. */
bool agent_fwd_pump(struct bl_agent *a);
/* The forwarding counters to the index: now, or when the last save is a second old. */
void agent_fwd_save(struct bl_agent *a);
void agent_fwd_save_maybe(struct bl_agent *a);

#endif
