/* fw_queue.h: the Linux port's message inbox (workers -> loop) and device worker threads. */
#ifndef BL_FW_QUEUE_H
#define BL_FW_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Every device call that can block (Modbus, REST, a robot motion, the trigger box, the SQLite
 * journal's fsync) runs in a worker thread; the real-time loop only hands jobs over and takes
 * results back, each under a mutex held for a struct copy. Fixed rings, allocated once at start:
 * a full ring is an error the caller turns into a refused request (never a silent drop).
 */

#define BL_FW_TEXT_MAX 32

/* What comes back to the loop. */
enum bl_fw_msg_kind {
	BL_FW_MSG_DONE = 1,	 /* a request finished: req, rc, text (barcode), series */
	BL_FW_MSG_INTERLOCK = 2, /* an input changed: interlock (enum bl_sfsm_interlock), active */
	BL_FW_MSG_EDGE = 3,	 /* a trigger edge: series, frame (index), t (controller ticks) */
	BL_FW_MSG_LOG = 4,	 /* a line for the log / event stream: text, rc */
	BL_FW_MSG_ROBOT = 5,	 /* robot connection state: rc 1 connected, 0 lost */
	BL_FW_MSG_ALARM = 6,	 /* a device failed on its own (owner's device `series`), rc */
};

/* Whose request a job serves: the answer goes to that state machine. */
enum bl_fw_owner { BL_FW_OWNER_SAMPLE = 0, BL_FW_OWNER_PRINT = 1 };

struct bl_fw_msg {
	int kind;
	uint32_t req;
	int rc;
	uint32_t series;
	uint32_t frame;
	uint64_t t;
	int interlock;
	bool active;
	int owner;    /* enum bl_fw_owner of the job answered */
	double value; /* a read value (heater temperature) */
	char text[96];
};

#define BL_FW_INBOX_CAP 512

struct bl_fw_inbox {
	pthread_mutex_t mu;
	struct bl_fw_msg ring[BL_FW_INBOX_CAP];
	unsigned head, len;
	uint64_t overflows;
	int wake_fd; /* eventfd written on every post: the loop may poll it; -1 when none */
};

int bl_fw_inbox_init(struct bl_fw_inbox *ib);
void bl_fw_inbox_destroy(struct bl_fw_inbox *ib);
/* 0, or -ENOSPC when full (counted in overflows). */
int bl_fw_inbox_post(struct bl_fw_inbox *ib, const struct bl_fw_msg *m);
/* Takes the oldest message; false when empty. */
bool bl_fw_inbox_take(struct bl_fw_inbox *ib, struct bl_fw_msg *m);

/* A job for a worker: what the HAL asked for. */
struct bl_fw_job {
	int op; /* meaning defined by the worker's handler */
	uint32_t req;
	int a, b, c;
	uint64_t t0, t1;
	uint32_t n;
	bool measured;
	int owner;	/* enum bl_fw_owner: copied into the DONE message */
	double d0, d1;	/* engineering values (rates, speeds, setpoints) */
	unsigned epoch; /* the worker's cancel epoch when pushed (bl_fw_worker_cancel) */
};

#define BL_FW_JOBS_CAP 64

struct bl_fw_worker;
/* Runs one job (may block). */
typedef void (*bl_fw_job_fn)(struct bl_fw_worker *w, const struct bl_fw_job *job);
/* Called when no job came for idle_ms (polls inputs, keeps links alive). */
typedef void (*bl_fw_idle_fn)(struct bl_fw_worker *w);

struct bl_fw_worker {
	const char *name;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct bl_fw_job ring[BL_FW_JOBS_CAP];
	unsigned head, len;
	bool stop, started;
	int idle_ms;
	bl_fw_job_fn run;
	bl_fw_idle_fn idle;
	void *ctx;		   /* the device's state */
	struct bl_fw_inbox *inbox; /* where results go */
	uint64_t jobs_done;
	int cur_owner;		/* owner of the job running (for bl_fw_post_done) */
	_Atomic unsigned epoch; /* bumped by bl_fw_worker_cancel */
};

/* Starts the thread. 0 or a negative errno. */
int bl_fw_worker_start(struct bl_fw_worker *w, const char *name, bl_fw_job_fn run,
		       bl_fw_idle_fn idle, int idle_ms, void *ctx, struct bl_fw_inbox *inbox);
/* Queues a job: 0, -ENOSPC when the ring is full, -ENODEV when the worker is not running. */
int bl_fw_worker_push(struct bl_fw_worker *w, const struct bl_fw_job *job);
/*
 * Cancels the jobs queued or running now: every job pushed before this call sees
 * bl_fw_job_cancelled() true (handlers skip them, timed waits end early). The stop or safe
 * state job pushed right after runs next. Never blocks.
 */
void bl_fw_worker_cancel(struct bl_fw_worker *w);
bool bl_fw_job_cancelled(const struct bl_fw_worker *w, const struct bl_fw_job *job);
/* Sleeps until controller tick `when` in slices of at most 1 ms; false when the job was
 * cancelled meanwhile (the caller then leaves the device alone). */
bool bl_fw_job_wait_until(const struct bl_fw_worker *w, const struct bl_fw_job *job, uint64_t when);

/* Asks the thread to finish its queued jobs and stop, and joins it. */
void bl_fw_worker_stop(struct bl_fw_worker *w);

/* Posts a DONE / LOG message from a worker. */
void bl_fw_post_done(struct bl_fw_worker *w, uint32_t req, int rc, const char *text,
		     uint32_t series);
/* Posts a DONE carrying a value (heater reads). */
void bl_fw_post_value(struct bl_fw_worker *w, uint32_t req, int rc, double value);
/* Posts an ALARM: the owner's device `dev` failed on its own with rc. */
void bl_fw_post_alarm(struct bl_fw_worker *w, int owner, int dev, int rc);
void bl_fw_post_log(struct bl_fw_worker *w, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
