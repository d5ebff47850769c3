/* agent_int.h: the agent's state, shared by its loop and its storage half. */
#ifndef BL_AGENT_INT_H
#define BL_AGENT_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>

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
};

struct bl_agent {
	struct bl_agent_config cfg;
	char out_dir[PATH_MAX], index_path[PATH_MAX];
	struct bl_dstream *stream;
	struct bl_fw_client *fw;
	struct bl_join *join;
	struct bl_agent_index *index;
	struct agent_series ser;
	uint8_t *chunk; /* encode buffer for frames that came raw or lz4 (once per series) */
	size_t chunk_cap;
	struct bl_agent_counters c;
	pthread_mutex_t lock;
	char last_file[PATH_MAX];
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

#endif
