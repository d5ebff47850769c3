/* stream_zmq.c: the stream consumer's ZMQ PULL side: receive one multipart message, feed it. */
#include <errno.h>
#include <string.h>

#include "bl_dstream_zmq.h"
#include "stream_int.h"

void bl_dstream_msgs_close(zmq_msg_t *msgs, int *nmsgs)
{
	for (int i = 0; i < *nmsgs; i++)
		zmq_msg_close(&msgs[i]);
	*nmsgs = 0;
}

static void release_msgs(struct bl_dstream *s)
{
	bl_dstream_msgs_close(s->msgs, &s->nmsgs);
}

int bl_dstream_recv_msg(void *sock, zmq_msg_t *msgs, int *nmsgs, int timeout_ms)
{
	zmq_pollitem_t it = {.socket = sock, .events = ZMQ_POLLIN};
	int rc = zmq_poll(&it, 1, timeout_ms);
	if (rc < 0)
		return zmq_errno() == EINTR ? 0 : -zmq_errno();
	if (!rc)
		return 0;
	/* A message is delivered whole or not at all, so once its first part is here the rest is.
	 */
	int n = 0, more = 1;
	while (more) {
		zmq_msg_t spare, *m = *nmsgs < BL_DSTREAM_MAX_PARTS ? &msgs[(*nmsgs)++] : &spare;
		zmq_msg_init(m); /* beyond BL_DSTREAM_MAX_PARTS parts are counted, not kept */
		int r = zmq_msg_recv(m, sock, n ? 0 : ZMQ_DONTWAIT), e = zmq_errno();
		more = r >= 0 && zmq_msg_more(m);
		if (m == &spare)
			zmq_msg_close(&spare);
		if (r < 0)
			return e == EAGAIN && !n ? 0 : -e;
		n++;
	}
	return n;
}

void bl_dstream_zmq_close(struct bl_dstream *s)
{
	release_msgs(s);
	if (s->sock)
		zmq_close(s->sock);
	if (s->zctx)
		zmq_ctx_term(s->zctx);
	s->sock = s->zctx = NULL;
}

int bl_dstream_connect(struct bl_dstream *s, const char *endpoint)
{
	bl_dstream_zmq_close(s);
	s->zctx = zmq_ctx_new();
	if (!s->zctx)
		return -errno;
	s->sock = zmq_socket(s->zctx, ZMQ_PULL);
	int linger = 0, hwm = 0; /* never drop on our side: the detector's buffer pushes back */
	if (!s->sock || zmq_setsockopt(s->sock, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_setsockopt(s->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
	    zmq_connect(s->sock, endpoint)) {
		int e = -zmq_errno();
		bl_dstream_zmq_close(s);
		return e;
	}
	return 0;
}

int bl_dstream_poll(struct bl_dstream *s, int timeout_ms, struct bl_dstream_event *ev)
{
	if (!s->sock)
		return -ENOTCONN;
	release_msgs(s); /* the previous event's pixels live in the series buffer, not here */
	int n = bl_dstream_recv_msg(s->sock, s->msgs, &s->nmsgs, timeout_ms);
	if (n <= 0)
		return n;
	struct bl_dpart parts[BL_DSTREAM_MAX_PARTS];
	for (int i = 0; i < s->nmsgs; i++)
		parts[i] = (struct bl_dpart){zmq_msg_data(&s->msgs[i]), zmq_msg_size(&s->msgs[i])};
	return bl_dstream_feed(s, parts, (size_t)n, ev);
}
