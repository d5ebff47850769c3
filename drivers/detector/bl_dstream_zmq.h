/* bl_dstream_zmq.h: one whole stream v1 message off a ZMQ socket (for callers that look at a
 * message before bl_dstream_feed(), as the agent does). */
#ifndef BL_DSTREAM_ZMQ_H
#define BL_DSTREAM_ZMQ_H

#include <zmq.h>

#include "bl_dstream.h"

/*
 * Waits up to timeout_ms for a message on SOCK and receives all its parts into MSGS (at most
 * BL_DSTREAM_MAX_PARTS kept; further parts are received, counted and closed). *NMSGS must be 0
 * (the caller closes the previous message's parts with bl_dstream_msgs_close first). Returns
 * the number of parts received (> 0), 0 when nothing came, or a negative errno.
 */
int bl_dstream_recv_msg(void *sock, zmq_msg_t *msgs, int *nmsgs, int timeout_ms);

/* Closes the parts of the last message; *nmsgs becomes 0. */
void bl_dstream_msgs_close(zmq_msg_t *msgs, int *nmsgs);

#endif
