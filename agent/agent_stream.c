/* agent_stream.c: the agent's detector stream socket (ZMQ PULL) in front of bl_dstream_feed, so
 * that an agent (re)started while a series streams adopts that series instead of rejecting it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "agent_int.h"
#include "bl_dstream_zmq.h"

void agent_stream_close(struct bl_agent *a)
{
	bl_dstream_msgs_close(a->msgs, &a->nmsgs);
	if (a->pull)
		zmq_close(a->pull);
	a->pull = NULL;
}

int agent_stream_open(struct bl_agent *a, const char *endpoint)
{
	a->pull = zmq_socket(a->zctx, ZMQ_PULL);
	int linger = 0, hwm = 0; /* never drop on our side: the detector's buffer pushes back */
	if (!a->pull || zmq_setsockopt(a->pull, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(a->pull, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
	    zmq_connect(a->pull, endpoint)) {
		int e = -zmq_errno();
		agent_stream_close(a);
		return e;
	}
	return 0;
}

/* The series of an image message (its first part's "series"), or -1 when it is none. */
static int64_t image_series(const zmq_msg_t *m)
{
	const char *p = zmq_msg_data((zmq_msg_t *)m);
	size_t n = zmq_msg_size((zmq_msg_t *)m);
	char buf[256];
	snprintf(buf, sizeof(buf), "%.*s", (int)(n < 255 ? n : 255), p);
	if (!strstr(buf, "\"dimage-1.0\""))
		return -1;
	const char *s = strstr(buf, "\"series\":");
	return s ? (int64_t)strtoull(s + 9, NULL, 10) : -1;
}

/* An agent that has seen no header yet and gets an image: the series began before it started
 * (a restart). It feeds the consumer a header (detail "none") for that series first, once; the
 * frames before are then counted missing. Later unknown series stay stale (e.g. after abort). */
static void adopt(struct bl_agent *a, int64_t series, struct bl_dstream_event *ev)
{
	char h[128];
	int n = bl_dmsg_header(h, sizeof(h), (uint64_t)series, "none");
	if (n < 0)
		return;
	struct bl_dpart part = {h, (size_t)n};
	bl_dstream_feed(a->stream, &part, 1, ev);
	if (ev->kind != BL_DS_HEADER)
		return;
	a->c.series_adopted++;
	agent_log(a, "series %lld: streaming before this agent started; adopted mid-series",
		  (long long)series);
	agent_on_event(a, ev);
}

int agent_stream_poll(struct bl_agent *a, int timeout_ms, struct bl_dstream_event *ev)
{
	bl_dstream_msgs_close(a->msgs, &a->nmsgs);
	int n = bl_dstream_recv_msg(a->pull, a->msgs, &a->nmsgs, timeout_ms);
	if (n <= 0)
		return n;
	if (!a->seen_header && !a->adopted && a->nmsgs > 0) {
		int64_t s = image_series(&a->msgs[0]);
		if (s >= 0) {
			a->adopted = true;
			adopt(a, s, ev);
		}
	}
	struct bl_dpart parts[BL_DSTREAM_MAX_PARTS];
	for (int i = 0; i < a->nmsgs; i++)
		parts[i] = (struct bl_dpart){zmq_msg_data(&a->msgs[i]), zmq_msg_size(&a->msgs[i])};
	return bl_dstream_feed(a->stream, parts, (size_t)n, ev);
}
