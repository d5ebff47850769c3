/* fw_client.h: the agent's and the CLI's side of the controller interface: calls, events, clock
 * sync. */
#ifndef BL_FW_CLIENT_H
#define BL_FW_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "proto/fw_proto.h"

/*
 * A client holds a DEALER on the command endpoint and, once something is subscribed, a SUB on
 * the event endpoint, both CURVE clients (the controller's public key, the client's own
 * keypair). One client is used by one thread at a time. Calls are synchronous: one request in
 * flight, its reply matched by id; replies to earlier calls that timed out arrive later and are
 * dropped (counted as stale).
 *
 * Being refused. ZMQ gives a refused client no reply: the CURVE handshake fails, the request is
 * never delivered, and libzmq (4.3) does not retry that connection. The client watches its own
 * socket's handshake events instead: a call returns -EACCES when the controller refused this
 * client's key (the server's ZAP answer 400 arrives as ZMQ_EVENT_HANDSHAKE_FAILED_AUTH), and
 * -ETIMEDOUT when nothing came at all: controller down, wrong server key (the controller cannot
 * read the hello and stays silent), a plaintext endpoint, or a slow command. So -ETIMEDOUT may
 * also mean "not let in" when ZMQ reported nothing; -EACCES is certain. Each call after a refusal
 * connects afresh (one new handshake), so a key added to the allow-list later works without
 * reopening the client. The event SUB socket is not re-connected: subscribe again after a
 * refusal (bl_fw_client_close and reopen).
 */

struct bl_fw_client;

struct bl_fw_client_config {
	const char *endpoint;	    /* command endpoint; NULL: BL_FW_CMD_ENDPOINT */
	const char *event_endpoint; /* event endpoint; NULL: BL_FW_EVT_ENDPOINT */
	const char *server_key;	    /* the controller's public key, Z85 (required) */
	const char *public_key;	    /* this client's keypair, Z85 (required) */
	const char *secret_key;
};

struct bl_fw_client_stats {
	uint64_t calls;		/* requests sent */
	uint64_t timeouts;	/* calls that got no reply in time (-ETIMEDOUT or -EACCES) */
	uint64_t stale_replies; /* replies whose id was not the call's (dropped) */
	uint64_t bad_replies;	/* replies that were not protocol JSON (dropped) */
	uint64_t auth_refused;	/* handshakes the controller refused (this client's key) */
	uint64_t events;	/* events received */
	uint64_t events_missed; /* events lost, from gaps in the per-topic seq */
	uint64_t bad_events;	/* events that were not protocol JSON (dropped) */
};

/* Connects (ZMQ connects lazily: an absent controller is found out at the first call). -EINVAL
 * for a missing or malformed key, a negative errno from ZMQ otherwise. */
int bl_fw_client_open(struct bl_fw_client **out, const struct bl_fw_client_config *cfg);

/* Closes the sockets and terminates the client's ZMQ context. NULL is a no-op. */
void bl_fw_client_close(struct bl_fw_client *c);

/* Sends {"id": next, "cmd": CMD, "args": ARGS} and waits up to timeout_ms (-1: no limit) for its
 * reply.
 * ARGS: an object or NULL (left out); not taken. Returns:
 *   0            *reply = the "result" (caller frees with cJSON_Delete)
 *   -code        the controller answered an error: *reply = the "error" object {"code", "name",
 *                "message"} (caller frees); so *reply != NULL always means "the controller said"
 *   -ETIMEDOUT   no reply in time, *reply = NULL (see "Being refused" above)
 *   -EACCES      the controller refused this client's key, *reply = NULL
 *   -E2BIG       the request would exceed BL_FW_REQUEST_MAX (not sent)
 *   -EINVAL      bad CMD, other negative errno from ZMQ, *reply = NULL
 * REPLY may be NULL when the caller wants only the status. bl_fw_client_error() says more. */
int bl_fw_client_call(struct bl_fw_client *c, const char *cmd, const cJSON *args, int timeout_ms,
		      cJSON **reply);

/* The same with ARGS as JSON text (NULL or "": none); -EINVAL when ARGS_JSON does not parse. */
int bl_fw_client_call_json(struct bl_fw_client *c, const char *cmd, const char *args_json,
			   int timeout_ms, cJSON **reply);

/* Sends TEXT (LEN bytes) as one request frame exactly as given and returns the first reply
 * received within timeout_ms as a whole parsed object in *reply ({"id", "ok", ...}), whatever its
 * id: for tests and debugging (a malformed request's reply may carry "id": null). */
int bl_fw_client_call_raw(struct bl_fw_client *c, const void *text, size_t len, int timeout_ms,
			  cJSON **reply);

/* One line on what the last failed call or event receive ran into ("" when none). */
const char *bl_fw_client_error(const struct bl_fw_client *c);

void bl_fw_client_stats(const struct bl_fw_client *c, struct bl_fw_client_stats *out);

/* Subscribes to TOPIC (NULL or "": every topic); the first call connects the SUB socket. Events
 * published before the subscription reached the controller are not seen (ZMQ PUB/SUB); the
 * first event's seq then tells how many were missed. */
int bl_fw_client_subscribe(struct bl_fw_client *c, const char *topic);
int bl_fw_client_unsubscribe(struct bl_fw_client *c, const char *topic);

struct bl_fw_event {
	char topic[BL_FW_TOPIC_MAX + 1];
	uint64_t seq;	 /* per-topic sequence number */
	uint64_t time;	 /* controller ticks at publication */
	uint64_t missed; /* events of this topic lost just before this one (seq gap) */
	cJSON *data;	 /* the body; owned by the event: bl_fw_event_clear() */
};

/* Waits up to timeout_ms (-1: forever) for an event: 0 and *ev filled, -ETIMEDOUT, -ENOTCONN
 * (nothing subscribed), -EBADMSG (a malformed event, dropped and counted). */
int bl_fw_client_event(struct bl_fw_client *c, int timeout_ms, struct bl_fw_event *ev);
void bl_fw_event_clear(struct bl_fw_event *ev);

/*
 * Clock sync (Klipper's clocksync.py, simplified). The controller counts ticks (1 us) on its own
 * clock; the host needs to turn its own times into controller times (to send a timed command:
 * "trigger at controller T") and back (to date an event). Method:
 *   - A ping sends the built-in "clock" request at local time t0, gets the controller's clock C
 *     and the reply at t1. The sample is (local = (t0 + t1) / 2, controller = C), good to within
 *     half the round trip (t1 - t0) / 2: C was read somewhere inside that interval.
 *   - Pings are grouped in windows (config.window pings); of each window only the sample with the
 *     smallest round trip is kept: queueing and scheduling delays only ever add to the round
 *     trip, so the quickest exchange is the least disturbed.
 *   - The kept samples of the last config.history windows are fitted with a weighted
 *     least-squares line controller = a + b * local (weights 1 / (rtt / 2)^2, so a sample the
 *     network slowed counts little). b - 1 is the drift (ppm); the fit is centred on the newest
 *     sample, so the offset (controller - local) is read off there without large-number loss.
 *   - The uncertainty reported is half the smallest round trip among the kept samples: the
 *     bound on any one sample's error (the line averages several, so it is usually better).
 *   - With one window only the offset is known (drift 0); two or more windows fit the drift.
 * Local time is CLOCK_MONOTONIC in microseconds unless the configuration gives another clock.
 * The controller's clock is whatever its port feeds bl_fw_net (its own monotonic clock).
 */

#define BL_FW_CLOCKSYNC_HISTORY_MAX 64

struct bl_fw_clocksync_config {
	int window;  /* pings per window (default 8) */
	int history; /* windows kept in the fit (default 32, at most BL_FW_CLOCKSYNC_HISTORY_MAX) */
	uint64_t (*local_now)(void *ctx); /* local clock in us; NULL: CLOCK_MONOTONIC */
	void *local_ctx;
};

struct bl_fw_clocksync_sample {
	uint64_t local; /* midpoint of the exchange, local us */
	uint64_t ctrl;	/* controller ticks */
	uint64_t rtt;	/* round trip, us */
};

struct bl_fw_clocksync {
	struct bl_fw_clocksync_config cfg;
	struct bl_fw_clocksync_sample best; /* the current window's best sample so far */
	int in_window;			    /* pings in the current window */
	struct bl_fw_clocksync_sample hist[BL_FW_CLOCKSYNC_HISTORY_MAX];
	int nhist, head; /* ring: head = next slot */
	/* The fit: controller(local) = ref_ctrl + alpha + (local - ref_local) * (1 + slope). */
	bool fitted;
	uint64_t ref_local, ref_ctrl;
	double alpha, slope, min_rtt;
	uint64_t pings, failed_pings;
};

struct bl_fw_clock_estimate {
	double offset_us;      /* controller - local at the local time asked for */
	double drift_ppm;      /* (controller rate / local rate - 1) * 1e6 */
	double uncertainty_us; /* half the smallest round trip in the fit */
	double rtt_us;	       /* the smallest round trip in the fit */
	int windows;	       /* windows in the fit */
};

/* cfg NULL: defaults. */
void bl_fw_clocksync_init(struct bl_fw_clocksync *cs, const struct bl_fw_clocksync_config *cfg);

/* The local clock (us) the sync uses. */
uint64_t bl_fw_clocksync_local_now(const struct bl_fw_clocksync *cs);

/* Adds one exchange: sent at local t0, controller clock CTRL, reply at local t1. Closes the
 * window (keeps its best sample, refits) after config.window exchanges. */
void bl_fw_clocksync_add(struct bl_fw_clocksync *cs, uint64_t t0, uint64_t ctrl, uint64_t t1);

/* Closes the current window now (if it has a sample) and refits. */
void bl_fw_clocksync_end_window(struct bl_fw_clocksync *cs);

/* One ping over C ("clock" request); 0 or the call's error. */
int bl_fw_clocksync_ping(struct bl_fw_clocksync *cs, struct bl_fw_client *c, int timeout_ms);

/* WINDOWS full windows of pings, interval_ms apart (0: back to back); stops at the first error
 * other than a timeout (timeouts are counted in failed_pings; the window goes on). */
int bl_fw_clocksync_run(struct bl_fw_clocksync *cs, struct bl_fw_client *c, int windows,
			int interval_ms, int timeout_ms);

/* The fit at local time LOCAL; -EAGAIN before the first window closed. */
int bl_fw_clocksync_estimate(const struct bl_fw_clocksync *cs, uint64_t local,
			     struct bl_fw_clock_estimate *est);

/* Local us -> controller ticks and back (0 before the first window closed). */
uint64_t bl_fw_clocksync_to_ctrl(const struct bl_fw_clocksync *cs, uint64_t local);
uint64_t bl_fw_clocksync_to_local(const struct bl_fw_clocksync *cs, uint64_t ctrl);

#endif
