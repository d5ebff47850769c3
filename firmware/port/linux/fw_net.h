/* fw_net.h: the controller's ZMQ side: command ROUTER and event PUB, CurveZMQ with a ZAP
 * allow-list. */
#ifndef BL_FW_NET_H
#define BL_FW_NET_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <zmq.h>

#include "proto/fw_keys.h"
#include "proto/fw_proto.h"

/*
 * Threads. bl_fw_net_open() starts one extra thread, the ZAP handler (RFC 27): it answers the
 * CURVE handshakes of both sockets, letting in only client keys on the allow-list. Everything
 * else (bl_fw_net_poll, the handler, replies, publish) runs in the caller's thread, the
 * controller's loop, and never blocks: sockets are read and written with ZMQ_DONTWAIT.
 * A reply that cannot be sent at once (client gone, its queue full) is dropped and counted.
 *
 * Typical loop:
 *     bl_fw_net_wait(net, ms_to_next_deadline);   or zmq_poll() over bl_fw_net_pollitems()
 *     bl_fw_net_poll(net, handle_command, ctl);
 *     ... bl_fw_net_publish(net, "state", obj) whenever something changes ...
 */

struct bl_fw_net;

#define BL_FW_IDENTITY_MAX 255 /* a ZMQ routing id is at most 255 bytes */
#define BL_FW_NET_POLL_MAX 256 /* requests taken per bl_fw_net_poll() call at most */

/* Where a reply goes: a small value, copy it to answer after the handler has returned. */
struct bl_fw_reply_to {
	uint64_t id;	    /* the request's id */
	bool has_id;	    /* false: the reply carries "id": null */
	bool req_delimiter; /* a REQ client: an empty frame between routing id and reply */
	uint8_t identity_len;
	uint8_t identity[BL_FW_IDENTITY_MAX];
};

/* A well-formed request, as the handler sees it. Pointers are valid during the handler call
 * only (cJSON_Duplicate what must outlive it); `to` may be copied and used later. */
struct bl_fw_request {
	struct bl_fw_net *net;	  /* the interface it came in on, for replies */
	struct bl_fw_reply_to to; /* pass to bl_fw_net_reply_ok/err (now or later) */
	uint64_t id;
	const char *cmd;			/* 1..BL_FW_CMD_MAX characters */
	const cJSON *args;			/* always an object ({} when absent) */
	char client_key[BL_FW_KEY_Z85_LEN + 1]; /* the authenticated client's public key (Z85) */
	uint64_t received;			/* controller ticks when taken off the socket */
};

/* Called once per request from bl_fw_net_poll(), in its thread. It answers each request exactly
 * once with bl_fw_net_reply_ok/err, before returning or later. It must not call
 * bl_fw_net_poll(); it may publish. Unknown commands: reply ENOSYS. */
typedef void (*bl_fw_handler_fn)(void *ctx, const struct bl_fw_request *req);

struct bl_fw_net_config {
	const char *cmd_endpoint; /* NULL: BL_FW_CMD_ENDPOINT; "tcp://127.0.0.1:*" picks a port */
	const char *evt_endpoint; /* NULL: BL_FW_EVT_ENDPOINT */
	const char *secret_key;	  /* the controller's secret key, Z85 (required) */
	const struct bl_fw_allowlist *allow; /* client keys let in (copied; NULL: nobody) */
	/* The controller clock, ticks of 1 us; NULL: CLOCK_MONOTONIC. Read for "clock" requests,
	 * each request's receipt time and each event's "t". */
	uint64_t (*now)(void *ctx);
	void *now_ctx;
	/* One line per call, no newline; NULL: stderr. Called from the loop thread and the ZAP
	 * thread, never both at once (serialised by a lock). */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/* Counters; each is read atomically, the set as a whole is not a snapshot. */
struct bl_fw_net_stats {
	uint64_t requests;	   /* well-formed requests given to the handler */
	uint64_t clock;		   /* built-in "clock" requests answered */
	uint64_t malformed;	   /* requests answered with a transport error (incl. too_big) */
	uint64_t too_big;	   /* requests over BL_FW_REQUEST_MAX bytes */
	uint64_t replies;	   /* replies sent (ok and error) */
	uint64_t replies_dropped;  /* replies not sent: client gone (EHOSTUNREACH) or queue full */
	uint64_t events;	   /* events published */
	uint64_t events_dropped;   /* events ZMQ refused to queue */
	uint64_t auth_accepted;	   /* ZAP: handshakes let in */
	uint64_t auth_refused;	   /* ZAP: handshakes refused (unknown key, not CURVE) */
	uint64_t handshake_failed; /* handshakes failed before ZAP: plaintext client, wrong
				      server key, garbage (seen through the socket monitors) */
};

/* Binds both sockets and starts the ZAP thread. -EINVAL for a malformed key, a negative errno
 * from ZMQ otherwise (e.g. -EADDRINUSE). */
int bl_fw_net_open(struct bl_fw_net **out, const struct bl_fw_net_config *cfg);

/* Closes the sockets, stops the ZAP thread, terminates the ZMQ context, frees. NULL is a no-op. */
void bl_fw_net_close(struct bl_fw_net *net);

/* Endpoints actually bound (the port filled in when the configuration said "*"). */
const char *bl_fw_net_cmd_endpoint(const struct bl_fw_net *net);
const char *bl_fw_net_evt_endpoint(const struct bl_fw_net *net);

/* The controller's public key (Z85), what clients configure as the server key. */
const char *bl_fw_net_public_key(const struct bl_fw_net *net);

/* Replaces the allow-list (copied) for handshakes from now on; connected clients stay. Any thread.
 */
int bl_fw_net_set_allowlist(struct bl_fw_net *net, const struct bl_fw_allowlist *allow);

/* Takes every request waiting (at most BL_FW_NET_POLL_MAX), answers malformed ones and "clock",
 * hands the rest to HANDLER (NULL: all answered ENOSYS). Returns the number of requests taken,
 * or a negative errno when the socket failed. Never blocks. */
int bl_fw_net_poll(struct bl_fw_net *net, bl_fw_handler_fn handler, void *ctx);

/* Blocks up to timeout_ms (-1: forever) until bl_fw_net_poll has something to do: > 0 ready,
 * 0 timeout, negative errno (-EINTR on a signal). */
int bl_fw_net_wait(struct bl_fw_net *net, int timeout_ms);

/* Fills up to MAX zmq_pollitem_t (ZMQ_POLLIN) to merge into the loop's own zmq_poll; returns
 * how many (3 now). When any is readable, call bl_fw_net_poll. */
int bl_fw_net_pollitems(struct bl_fw_net *net, zmq_pollitem_t *items, int max);

/* Answers a request: {"id":…, "ok":true, "result": RESULT}. Takes RESULT (NULL: {}), freed here
 * whatever happens. 0, or -EHOSTUNREACH (client gone) / -EAGAIN (its queue full) / -ENOMEM. */
int bl_fw_net_reply_ok(struct bl_fw_net *net, const struct bl_fw_reply_to *to, cJSON *result);

/* Answers a request with an error: CODE is an errno value, either sign (the core's -EINVAL and
 * EINVAL both give "code": 22, "name": "EINVAL"); MESSAGE NULL: strerror(CODE). */
int bl_fw_net_reply_err(struct bl_fw_net *net, const struct bl_fw_reply_to *to, int code,
			const char *message);

/* Publishes an event on TOPIC (1..BL_FW_TOPIC_MAX characters, at most 32 distinct topics, none
 * a prefix of another): {"topic", "seq", "t", "data": DATA}. Takes DATA (NULL: {}). 0, -EINVAL
 * (bad topic), -ENOSPC (too many topics), -EAGAIN (dropped by ZMQ), -ENOMEM. */
int bl_fw_net_publish(struct bl_fw_net *net, const char *topic, cJSON *data);

void bl_fw_net_stats(const struct bl_fw_net *net, struct bl_fw_net_stats *out);

#endif
