/* det_sim.h: state of bl-detector-sim, shared by its REST server, series engine and main loop. */
#ifndef BL_DET_SIM_H
#define BL_DET_SIM_H

#include <gsl/gsl_rng.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "bl_dstream.h"
#include "det_render.h"

enum det_state { DET_IDLE, DET_READY, DET_ACQUIRE, DET_ERROR };

/* What the REST API configures. */
struct det_cfg {
	double count_time, frame_time; /* s */
	uint64_t nimages, ntrigger;
	char trigger_mode[8];  /* ints | exts */
	enum bl_dtype type;    /* bit_depth_image 16 | 32 */
	char compression[8];   /* none | lz4 | bslz4 */
	char stream_mode[12];  /* enabled | disabled */
	char header_detail[8]; /* all | basic | none */
};

#define DET_OUTBOX    8 /* messages waiting for the consumer */
#define DET_OUT_PARTS 4

struct det_outmsg {
	int nparts, sent;
	zmq_msg_t part[DET_OUT_PARTS];
};

struct det_sim {
	struct det_cfg cfg;
	enum det_state state;
	char api_version[16];
	char description[96];
	double max_rate_hz;
	struct bl_det_geom geom;
	struct bl_det_film film;
	gsl_rng *rng;
	/* per-frame buffers, allocated once at start for the largest frame */
	float *mu;
	void *pix;
	uint8_t *enc;
	size_t enc_cap;
	bool mu_valid;	      /* mu matches count_time and the film */
	struct bl_det_gs *gs; /* the GISAXS renderer's plan (film model BL_DET_GISAXS), made once */
	/* the series */
	uint64_t series;	   /* id of the last arm */
	uint64_t arm_ns;	   /* monotonic time of the arm */
	uint64_t total;		   /* frames the series will have */
	uint64_t next_frame;	   /* next frame to take */
	uint64_t burst_left;	   /* frames left of the current trigger */
	uint64_t series_triggers;  /* triggers of this series so far */
	uint64_t pending_triggers; /* external edges waiting for the running burst */
	uint64_t due_ns;	   /* start of the next frame's exposure */
	bool series_open;	   /* a header went out and no end yet */
	uint64_t last_series, last_frame;
	bool have_last;
	/* faults */
	unsigned drop, badhash, truncate, badjson;
	uint64_t late_ms;
	bool stale_req;
	/* the stream */
	void *zctx, *push;
	char endpoint[128];
	struct det_outmsg out[DET_OUTBOX];
	int out_head, out_len;
	/* statistics for `show` */
	uint64_t frames_sent, frames_dropped, edges, edges_ignored, triggers;
	int trigger_channel;
};

uint64_t det_now_ns(void);

/* Series engine (det_sim_series.c). Commands return an HTTP status and write the reason of a
 * refusal into ERR. */
int det_arm(struct det_sim *s, char *err, size_t cap);
int det_trigger(struct det_sim *s, char *err, size_t cap);
int det_disarm(struct det_sim *s, bool aborted);
/* An external trigger edge (control socket `trigger`, or the trigger-in datagram socket). */
void det_edge(struct det_sim *s);
/* Queues an image of the last ended series (the `stale` fault). */
void det_stale(struct det_sim *s);
/* Takes the frames that are due and pushes what the consumer accepts; returns how many ms the
 * main loop may sleep. */
int det_tick(struct det_sim *s);
int det_stream_open(struct det_sim *s, const char *endpoint);
void det_stream_close(struct det_sim *s);

/* REST server (det_sim_http.c). */
struct MHD_Daemon;
struct MHD_Daemon *det_http_start(struct det_sim *s, const char *host, int port, int *bound);
int det_http_fd(struct MHD_Daemon *d);
void det_http_run(struct MHD_Daemon *d);

#endif
